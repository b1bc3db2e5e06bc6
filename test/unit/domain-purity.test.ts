// The domain modules also run inside Temporal workflow sandboxes: no I/O, no Node built-ins, no clock, no
// randomness, no time-zone database. This test reads their source to keep it that way.
import { readFileSync } from 'fs';
import { join } from 'path';

const FILES = [
  'errors.ts',
  'uscc.ts',
  'resident-id.ts',
  'districts.ts',
  'holders.ts',
  'seals.ts',
  'numbering.ts',
  'materials.ts',
  'calendar.ts',
  'seal-text.ts',
  'production-data.ts',
  'index.ts',
  'actor.ts',
  'refusals.ts',
];

describe('pure domain modules', () => {
  it.each(FILES)('domain/%s imports only sibling domain modules and never reads the clock', (file) => {
    const src = readFileSync(join(__dirname, '..', '..', 'domain', file), 'utf8');
    const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    const imports = [...code.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
    for (const spec of imports) expect([file, spec]).toEqual([file, expect.stringMatching(/^\.\/[a-z-]+$/)]);
    expect(code).not.toMatch(/Date\.now\s*\(/);
    expect(code).not.toMatch(/new Date\(\s*\)/);
    expect(code).not.toMatch(/Math\.random/);
    expect(code).not.toMatch(/\bIntl\b|toLocale\w*\(/);
    expect(code).not.toMatch(/\bprocess\.|\bsetTimeout\b|\bsetInterval\b/);
  });
});
