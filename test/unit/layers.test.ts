// Layers as rules (issue 11): `npm run lint` cruises the tree with .dependency-cruiser.cjs. Here the same
// rule set cruises a tiny tree (test/fixtures/layers) holding wrong-way imports, and must fail on each of
// them and on nothing else.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const fixture = join(root, 'test', 'fixtures', 'layers');
const cli = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

function cruise() {
  const run = spawnSync(
    process.execPath,
    [cli, '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'err', 'domain', 'activities', 'workflows', 'usecases', 'web'],
    { cwd: fixture, encoding: 'utf8', timeout: 60_000 },
  );
  if (run.error) throw run.error;
  const violations = [...run.stdout.matchAll(/error (\S+): (\S+) → (\S+)/g)].map((m) => `${m[1]}: ${m[2]} → ${m[3]}`).sort();
  return { status: run.status, violations };
}

describe('layer rules (dependency-cruiser)', () => {
  it('fail on every wrong-way import of the fixture, and only on those', () => {
    const { status, violations } = cruise();
    expect(status).not.toBe(0);
    expect(violations).toEqual([
      'activities-import-only-workflow-messages: activities/peek.ts → workflows/case.ts',
      'domain-imports-only-inward: domain/holder.ts → web/holder-page.ts',
      'only-workers-and-workflows-import-activities: usecases/close-case.ts → activities/notify.ts',
    ]);
  });
});
