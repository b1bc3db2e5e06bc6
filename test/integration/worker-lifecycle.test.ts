// Workers as separate processes, as `make up` runs them: one killed in the middle of an HSM activity
// is replaced and the workflow still finishes with exactly one stored result; SIGTERM drains cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createDb, type Db } from '../../infra/db';
import { temporalConnectionOptions } from '../../infra/temporal';
import { signStatementWorkflow } from '../../workflows';
import { testConfig, workflowBundlePath } from '../helpers/stack';
import { createMainWorker } from '../../workers/main-worker';
import { connectWorkerContext } from '../../workers/connect';

const root = path.resolve(__dirname, '../..');
const config = testConfig();
let db: Db;
let client: Client;
const children: ChildProcess[] = [];
const webPort = 20000 + (process.pid % 20000);

function startProcess(file: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, file)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}
const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  db = createDb(config.runtime.databaseUrl!);
  client = new Client({ connection: await Connection.connect(temporalConnectionOptions(config)), namespace: config.temporal.namespace });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await client.connection.close();
  await db.destroy();
});

test('an HSM worker killed mid-activity is replaced and the workflow finishes with one stored, valid signature', async () => {
  const ctx = await connectWorkerContext(config);
  const mainWorker = await createMainWorker(ctx, { workflowBundlePath: workflowBundlePath() });
  const mainRun = mainWorker.run();
  try {
    const marker = path.join(mkdtempSync(path.join(tmpdir(), 'kill-')), 'attempts');
    const slow = startProcess('test/fixtures/slow-hsm-worker.ts', { MARKER_FILE: marker });

    const statementId = randomUUID();
    const handle = await client.workflow.start(signStatementWorkflow, {
      taskQueue: config.temporal.taskQueues.main,
      workflowId: `statement:${statementId}`,
      args: [{ statementId, kind: 'lifecycle.kill', payload: { run: statementId }, requestedBy: null, hsmTaskQueue: config.temporal.taskQueues.hsm }],
    });
    await waitFor(() => existsSync(marker), 60_000, 'the slow worker to start signing');
    slow.kill('SIGKILL');
    expect((await exited(slow)).signal).toBe('SIGKILL');

    startProcess('workers/hsm-worker.ts');
    await expect(handle.result()).resolves.toEqual({ statementId });

    const rows = await db('platform_statements').where({ id: statementId });
    expect(rows).toHaveLength(1);
    expect(readFileSync(marker, 'utf8').trim().split('\n')).toHaveLength(1);
    const history = await handle.fetchHistory();
    const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts).toContain(2); // the first attempt died with its worker; the second one succeeded
  } finally {
    mainWorker.shutdown();
    await mainRun;
    await ctx.close();
  }
});

test('SIGTERM stops a worker and the web server gracefully (exit code 0)', async () => {
  const worker = startProcess('workers/main-worker.ts');
  const web = startProcess('web/server.ts', { WEB_PORT: String(webPort) });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${webPort}/healthz`).catch(() => null))?.ok === true, 60_000, 'the web server');
  // Give the worker time to connect and start polling before asking it to stop.
  await waitFor(async () => {
    const tq = await client.workflowService.describeTaskQueue({
      namespace: config.temporal.namespace,
      taskQueue: { name: config.temporal.taskQueues.main },
    });
    return (tq.pollers ?? []).some((p) => p.identity?.startsWith(`${worker.pid}@`));
  }, 60_000, 'the worker process to poll');
  worker.kill('SIGTERM');
  web.kill('SIGTERM');
  expect(await exited(worker)).toEqual({ code: 0, signal: null });
  expect(await exited(web)).toEqual({ code: 0, signal: null });
});
