// The small version of `npm run chaos` (scripts/chaos.ts): the back office as `make up` runs it, on its own
// free ports and data folder, with a few cases driven through the API while the HSM worker, the main worker,
// the Temporal dev server and the PostgreSQL postmaster are killed with SIGKILL at random moments and
// restarted by the supervisor. Nothing may be lost or done twice.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePorts } from '../helpers/ports';

const root = path.resolve(__dirname, '../..');


test('faults: SIGKILLs of workers, Temporal and PostgreSQL lose no case and duplicate nothing', async () => {
  const [pg, temporal, ui, web, smtp, mailUi] = await freePorts(6);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: `${process.env.DATA_DIR ?? 'data-test'}-chaos`,
    POSTGRES_PORT: String(pg),
    WEB_PORT: String(web),
    ESEAL_TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
    ESEAL_TEMPORAL_DEV_SERVER_PORT: String(temporal),
    ESEAL_TEMPORAL_DEV_SERVER_UI_PORT: String(ui),
    ESEAL_TEMPORAL_NAMESPACE: 'eseal-chaos',
    // Its own mail server too: the test stack's mailpit holds the inherited ports.
    ESEAL_NOTIFY_SMTP_PORT: String(smtp),
    ESEAL_NOTIFY_MAILPIT_UI_PORT: String(mailUi),
  };
  // Its own embedded PostgreSQL and token, not the test stack's.
  for (const k of ['DATABASE_URL', 'DATABASE_OWNER_URL', 'SOFTHSM2_CONF']) delete env[k];

  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/chaos.ts', '--cases', '3', '--concurrency', '3', '--kills', '3', '--max-seconds', '150', '--json'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const line = out.trim().split('\n').pop() ?? '';
  let report: any;
  try {
    report = JSON.parse(line);
  } catch {
    throw new Error(`chaos printed no report (exit ${code}):\n${out}\n${err.slice(-4000)}`);
  }
  console.log(`chaos (small): ${JSON.stringify({ cases: report.cases, kills: report.kills, restart_and_stall_ms: report.restart_and_stall_ms })}`);
  // What chaos said as it went (kills, restarts), to read a failure by.
  if (!report.ok) console.log(`chaos said:\n${err.slice(-8000)}`);

  expect(report.kills.total).toBeGreaterThanOrEqual(3);
  expect(report.kill_log.every((k: { restart_ms: number | null }) => k.restart_ms !== null)).toBe(true); // each one restarted
  expect(report.cases.driven).toBeGreaterThanOrEqual(3);
  expect(report.cases.lost).toBe(0);
  expect(report.duplicates).toEqual({ keys: 0, certificate_serials: 0, documents: 0, filings: 0, audit_events: 0, timeline_events: 0 });
  expect(report.missing).toEqual({ keys: 0, documents: 0 });
  expect(report.audit.ok).toBe(true);
  expect(report.workflows).toEqual({ failed: 0, cases_failed: 0, stuck: 0 });
  expect(report.ok).toBe(true);
  expect(code).toBe(0);
}, 420_000);
