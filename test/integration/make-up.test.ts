// Issue 16 point 8: what `make up` (scripts/up.ts) does for a first-time user. It is started as `make up`
// starts it, in its own process group on free ports and its own data folder, and stopped as Ctrl-C stops
// it (SIGINT to the whole group): it must end with code 0 — a non-zero code is what made make print
// "make: *** Error 130". The Temporal UI it prints opens the project's namespace. It is started a second
// time on the kept data, and both start times are written to test-artifacts/make-up/ (the README quotes
// them; no assertion on durations).
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePorts } from '../helpers/ports';

const ROOT = path.resolve(__dirname, '../..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'make-up');


interface Run {
  readyMs: number;
  output: string;
  exit: { code: number | null; signal: NodeJS.Signals | null };
}

/** Starts up.ts like `make up`, waits until it says it is up, then presses Ctrl-C (SIGINT to the group). */
function upThenCtrlC(env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/up.ts')], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let readyMs = -1;
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`make up was not up after 240 s:\n${output}`));
    }, 240_000);
    const onData = (chunk: string) => {
      output += chunk;
      if (readyMs < 0 && output.includes('Ctrl-C stops everything.')) {
        readyMs = Date.now() - started;
        process.kill(-child.pid!, 'SIGINT'); // the terminal sends Ctrl-C to every process of the foreground group
      }
    };
    // eslint-disable-next-line no-control-regex
    const plain = (b: Buffer) => b.toString().replace(/\x1b\[[0-9;]*m/g, '');
    child.stdout!.on('data', (b: Buffer) => onData(plain(b)));
    child.stderr!.on('data', (b: Buffer) => onData(plain(b)));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ readyMs, output, exit: { code, signal } });
    });
  });
}

test('make up: Ctrl-C ends it with code 0 (no "make: *** Error 130"), its Temporal UI link opens the project\'s namespace, and a restart keeps the data', async () => {
  const dataDir = path.join(path.relative(ROOT, path.resolve(ROOT, process.env.DATA_DIR ?? 'data-test')), 'make-up');
  rmSync(path.join(ROOT, dataDir), { recursive: true, force: true });
  const [pg, temporal, ui, web, smtp, mailUi] = await freePorts(6);
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, POSTGRES_PORT: String(pg), WEB_PORT: String(web), ESEAL_TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`, ESEAL_TEMPORAL_DEV_SERVER_PORT: String(temporal), ESEAL_TEMPORAL_DEV_SERVER_UI_PORT: String(ui), ESEAL_TEMPORAL_NAMESPACE: 'eseal-make-up', ESEAL_NOTIFY_SMTP_PORT: String(smtp), ESEAL_NOTIFY_MAILPIT_UI_PORT: String(mailUi) };
  // Nothing of the test stack's services: up.ts provisions its own.
  for (const k of ['DATABASE_URL', 'DATABASE_OWNER_URL', 'SOFTHSM2_CONF', 'PKCS11_MODULE', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE']) delete env[k];

  const first = await upThenCtrlC(env);
  expect(first.readyMs).toBeGreaterThan(0);
  expect(first.exit).toEqual({ code: 0, signal: null });
  expect(first.output).toContain(`Temporal Web UI  http://127.0.0.1:${ui}/namespaces/eseal-make-up/workflows`);
  expect(first.output).toContain('stopping workers, web, Temporal and PostgreSQL');

  const second = await upThenCtrlC(env);
  expect(second.exit).toEqual({ code: 0, signal: null });
  expect(second.output).not.toContain('initialising a new cluster'); // the data was kept

  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(path.join(ARTIFACTS, 'start-times.txt'), `first start (fresh data): ${(first.readyMs / 1000).toFixed(1)} s\nrestart (data kept): ${(second.readyMs / 1000).toFixed(1)} s\nmeasured ${new Date().toISOString()}, from spawning scripts/up.ts to its "Ctrl-C stops everything." line (web /readyz answered)\n`);
  rmSync(path.join(ROOT, dataDir), { recursive: true, force: true });
}, 600_000);
