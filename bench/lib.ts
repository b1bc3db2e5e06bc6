// Small helpers shared by the benchmarks: timed loops, percentiles, aligned tables, flags.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export const now = () => performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Rate {
  ops: number;
  seconds: number;
  perSecond: number;
}

/**
 * Runs `op` back to back (`concurrency` in flight) for about `seconds`, and at least `minOps` times;
 * returns completed operations per second.
 */
export async function measureRate(seconds: number, op: (i: number) => Promise<unknown>, concurrency = 1, minOps = 1): Promise<Rate> {
  const start = now();
  const end = start + seconds * 1000;
  let i = 0;
  let ops = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (now() < end || i < minOps) {
        await op(i++);
        ops++;
      }
    }),
  );
  const elapsed = (now() - start) / 1000;
  return { ops, seconds: elapsed, perSecond: ops / elapsed };
}

/**
 * Runs `count` operations with `concurrency` in flight; returns the wall time in seconds. With `until`
 * (a now() value), no operation starts after that moment; those in flight finish.
 */
export async function runPool(count: number, concurrency: number, op: (i: number) => Promise<unknown>, until = Infinity): Promise<number> {
  const start = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count && now() < until; i = next++) await op(i);
    }),
  );
  return (now() - start) / 1000;
}

/** Nearest-rank percentile (p in 0..100) of a list of numbers; NaN for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** Prints rows as an aligned text table (first row is the header); numbers are right-aligned. */
export function printTable(rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[], numeric: boolean[]) =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const numeric = cells[0].map((_, i) => cells.slice(1).every((r) => /^[-+]?[\d.,]+(\s*[%x×])?$|^-?$/.test(r[i] ?? '')));
  console.log(line(cells[0], numeric));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r, numeric));
}

/** `--name value` or `--name=value` from argv, as a positive integer. */
export function intFlag(name: string, fallback: number): number {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let raw: string | undefined;
    if (a === `--${name}`) raw = argv[i + 1];
    else if (a.startsWith(`--${name}=`)) raw = a.slice(name.length + 3);
    if (raw === undefined) continue;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer, got "${raw}"`);
    return v;
  }
  return fallback;
}

/** `--name value` or `--name=value` from argv, as a string; undefined when absent. */
export function stringFlag(name: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

/** A CPU profiler of this process (node:inspector), started and stopped around a phase of a benchmark. */
export function cpuProfiler() {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  return {
    async start() {
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 500 });
      await post('Profiler.start');
    },
    async stop(file: string) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}

export const heading = (title: string) => console.log(`\n=== ${title} ===`);

/** SoftHSM's folder for a token: one `<uuid>.object` file per token object, beside `token.object`. */
export function tokenDir(tokensRoot: string, label: string): string {
  for (const d of readdirSync(tokensRoot)) {
    const meta = path.join(tokensRoot, d, 'token.object');
    try {
      if (readFileSync(meta).includes(Buffer.from(label))) return path.join(tokensRoot, d);
    } catch {
      /* not a token folder */
    }
  }
  throw new Error(`no SoftHSM token folder for "${label}" under ${tokensRoot}`);
}
export const countObjects = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.object') && f !== 'token.object').length;
