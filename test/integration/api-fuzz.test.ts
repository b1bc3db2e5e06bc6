// Issue 10 "Fuzzing" (P2): the JSON API is fuzzed from web/openapi.yaml by schemathesis (a property-based
// tester made for OpenAPI), for every operation and as every role and as nobody, against the real stack:
// no answer is a 5xx, every answer's status, content type, headers and body are as the description says, and
// every refusal is the project's JSON error in Chinese and English (the `bilingual_error` check of
// test/helpers/schemathesis_hooks.py). Bounded: a fixed number of cases per operation (FUZZ_MAX_EXAMPLES),
// seeded (FUZZ_SEED, printed) so that a failure can be replayed.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc } from '../helpers/fixtures';
import { collectedSeal } from '../helpers/journeys';

const ROOT = path.resolve(__dirname, '../..');
const SPEC = path.join(ROOT, 'web/openapi.yaml');
const HOOKS = path.join(ROOT, 'test/helpers/schemathesis_hooks.py');
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_headers_conformance', 'response_schema_conformance', 'bilingual_error'];
const MAX_EXAMPLES = process.env.FUZZ_MAX_EXAMPLES ?? '5'; // 5 finds what 12 found on this API in half the time; the coverage phase adds its own cases
const SEED = process.env.FUZZ_SEED ?? '20261204';
const TIME_LIMIT_MS = 180_000; // all runs together

let app: RunningApp;
beforeAll(async () => {
  app = await startApp();
}, 120_000);
afterAll(async () => {
  await app?.stop();
});

interface Report {
  schemathesis_version: string;
  operations: { total: number; tested: number };
  test_cases: { generated: number; with_failures: number };
  failures: Array<{ title: string; count: number; operations: string[] }>;
  errors: unknown[];
}
interface Logged {
  operation: string;
  role: string;
  status: number;
}

function run(command: string, args: string[], env: Record<string, string>, timeLimitMs: number, cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    // In its own folder: schemathesis keeps replay data in ./.schemathesis.
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // Bounded: past the limit the run is stopped and the test fails, naming the limit.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeLimitMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? -1 : 0), out });
    });
  });
}

describe('Issue 10 fuzzing: the JSON API against its description', () => {
  it('P2: schemathesis, every operation as every role: no 5xx, every answer as described, every refusal in Chinese and English', async () => {
    const st = execFileSync('bash', [path.join(ROOT, 'scripts/ensure-schemathesis.sh')], { encoding: 'utf8' }).trim();

    // One user of each role (with the scope the role needs), and things that exist for the path identifiers.
    const makerId = await createMaker(app.db);
    const maker = await createUser(app.db, 'maker', { maker_id: makerId });
    const officer = await createUser(app.db, 'officer', { district_code: '110105' });
    const seal = await collectedSeal(app, maker, officer);
    const holder = await createUser(app.db, 'holder', { holder_id: seal.holderId });
    const supervisor = await createUser(app.db, 'supervisor');
    const admin = await createUser(app.db, 'admin');
    const bystander = await createUser(app.db, 'officer', { district_code: '110108' }); // an account the fuzzer may disable
    // And a case early in its life (waiting for materials), whose workflow is running.
    const uscc = makeUscc('110105');
    const early = await api(app.url, maker.token, 'POST', '/api/applications', {
      holder: { uscc, name: `北京模糊测试${uscc.slice(-5)}有限公司`, kind: 'enterprise', address: '北京市朝阳区光华路1号', district: '110105', legal_representative: '张三', has_superior: false },
      seal: { kind: 'legal_name', language: 'zh' },
      handler: { name: '李四', id_number: makeResidentId(), phone: '13800138000' },
    });
    expect(early.status).toBe(201);
    const roles: Array<[string, string | null]> = [
      ['maker', maker.token],
      ['officer', officer.token],
      ['holder', holder.token],
      ['supervisor', supervisor.token],
      ['admin', admin.token],
      ['anonymous', null],
    ];

    const dir = mkdtempSync(path.join(tmpdir(), 'api-fuzz-'));
    const log = path.join(dir, 'responses.ndjson');
    const deadline = Date.now() + TIME_LIMIT_MS;
    const ids = { id: [seal.caseId, early.body.id as string, seal.sealId, seal.holderId, makerId, bystander.id] };
    // One deep run (every phase; the roles take turns per operation), then one short run per role, so that an
    // operation with few distinct inputs (no parameters) is still called by every role.
    const runs = [
      { name: 'all-roles', tokens: roles, phases: 'examples,coverage,fuzzing', maxExamples: MAX_EXAMPLES },
      ...roles.map(([role, token]) => ({ name: role, tokens: [[role, token]], phases: 'examples,fuzzing', maxExamples: '3' })),
    ];
    const results: Array<{ name: string; code: number; seconds: number; report?: Report }> = [];
    // One worker: with two threads CPython 3.11's ast.parse (Hypothesis describes its lambdas with it) races
    // with itself ("SystemError: AST constructor recursion depth mismatch", cpython gh-106905).
    for (const r of runs) {
      const started = Date.now();
      const reportPath = path.join(dir, `${r.name}.json`);
      const { code, out } = await run(
        st,
        ['run', SPEC, '--url', app.url, '--checks', CHECKS.join(','), '--max-examples', r.maxExamples, '--seed', SEED, '--workers', '1',
          '--phases', r.phases, '--request-timeout', '30', '--no-shrink', '--continue-on-failure', '--generation-database', 'none',
          '--generation-with-security-parameters', 'false', '--report', 'json', '--report-json-path', reportPath],
        { SCHEMATHESIS_HOOKS: HOOKS, FUZZ_TOKENS: JSON.stringify(r.tokens), FUZZ_IDS: JSON.stringify(ids), FUZZ_LOG: log, NO_COLOR: '1' },
        Math.max(1, deadline - Date.now()),
        dir,
      );
      writeFileSync(path.join(dir, `${r.name}.txt`), out);
      const report = existsSync(reportPath) ? (JSON.parse(readFileSync(reportPath, 'utf8')) as Report) : undefined;
      results.push({ name: r.name, code, seconds: Math.round((Date.now() - started) / 1000), report });
      if (code !== 0) console.log(`schemathesis as ${r.name} failed (full output: ${path.join(dir, `${r.name}.txt`)}):\n${out.slice(-20_000)}`);
    }
    const responses: Logged[] = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Logged) : [];
    const failures = results.flatMap((r) => (r.report?.failures ?? []).map((f) => `${r.name}: ${f.title} (${f.count}): ${f.operations.join(', ')}`));
    const errors = results.flatMap((r) => (r.report ? r.report.errors.map((e) => `${r.name}: ${JSON.stringify(e)}`) : [`${r.name}: no report (exit ${r.code})`]));
    console.log(
      `schemathesis ${results.map((r) => r.report?.schemathesis_version).find(Boolean)} (seed ${SEED}) against web/openapi.yaml:\n` +
        results.map((r) => `  ${r.name}: ${r.report?.operations.tested}/${r.report?.operations.total} operations, ${r.report?.test_cases.generated} cases, ${r.report?.test_cases.with_failures} with failures, ${r.seconds} s`).join('\n') +
        `\n  in all: ${results.reduce((n, r) => n + (r.report?.test_cases.generated ?? 0), 0)} cases, ${responses.length} responses, ${failures.length} failures, ${errors.length} errors` +
        (failures.length ? `\n  ${failures.join('\n  ')}` : ''),
    );

    // Every described operation was called by every role (and by nobody), so none was left out.
    const spec = parse(readFileSync(SPEC, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(spec.paths).flatMap(([p, item]) =>
      Object.keys(item).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m)).map((m) => `${m.toUpperCase()} ${p}`),
    );
    const missing = operations.flatMap((op) => roles.filter(([role]) => !responses.some((r) => r.operation === op && r.role === role)).map(([role]) => `${op} as ${role}`));
    const serverErrors = responses.filter((r) => r.status >= 500);
    const byClass = (c: number) => responses.filter((r) => Math.floor(r.status / 100) === c).length;
    console.log(`responses: ${byClass(2)} 2xx, ${byClass(4)} 4xx (each judged bilingual), ${byClass(5)} 5xx`);

    expect(serverErrors).toEqual([]);
    // The checks had both to judge: answers that went through and refusals.
    expect(byClass(2)).toBeGreaterThan(0);
    expect(byClass(4)).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    expect(errors).toEqual([]);
    expect(results.map((r) => [r.name, r.report?.operations.tested])).toEqual(runs.map((r) => [r.name, operations.length]));
    expect(missing).toEqual([]);
    expect(results.map((r) => [r.name, r.code])).toEqual(runs.map((r) => [r.name, 0]));
  }, TIME_LIMIT_MS + 120_000);
});
