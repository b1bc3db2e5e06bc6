// Proves the Java time-skipping test server (Maven Central, scripts/ensure-temporal-test-server.sh)
// behind TestWorkflowEnvironment.createTimeSkipping: day-long and months-long timers complete in
// seconds of wall time, signals and workflow Updates (how human tasks are decided) work.
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflowsQuietly, createTimeSkippingEnv } from '../helpers/time-skipping';
import { runWorkersUntil } from '../helpers/run-workers';
import { decideUpdate, decisionQuery, fileSignal, humanTask, sleepDays, waitForFiling } from './fixtures/sleepy';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundleWithSourceMap;
let taskQueue: string;

beforeAll(async () => {
  const t0 = Date.now();
  env = await createTimeSkippingEnv();
  const t1 = Date.now();
  // Bundle once; a Worker runs only once (runUntil shuts it down), so each test makes its own.
  workflowBundle = await bundleWorkflowsQuietly(require.resolve('./fixtures/sleepy'));
  process.stdout.write(`time-skipping env up in ${t1 - t0} ms; workflow bundle in ${Date.now() - t1} ms\n`);
});

afterAll(async () => {
  await env?.teardown();
});

beforeEach(() => {
  taskQueue = `time-skipping-${randomUUID()}`;
});

/** Runs `fn` while a fresh Worker polls this test's task queue. */
async function run<R>(fn: () => Promise<R>): Promise<R> {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle });
  return runWorkersUntil([worker], fn);
}
const wfId = (name: string) => `${name}-${randomUUID()}`;

test('without a signal the 24-hour wait times out, skipping the day in well under a minute', async () => {
  const wallStart = Date.now();
  const serverStart = await env.currentTimeMs();
  const result = await run(() =>
    env.client.workflow.execute(waitForFiling, { taskQueue, workflowId: wfId('no-signal') }),
  );
  const skipped = (await env.currentTimeMs()) - serverStart;
  const wall = Date.now() - wallStart;
  process.stdout.write(`24h wait: server time +${(skipped / HOUR).toFixed(2)} h in ${wall} ms wall\n`);
  expect(result).toBe('timed out');
  expect(skipped).toBeGreaterThanOrEqual(24 * HOUR);
  expect(wall).toBeLessThan(30_000);
});

test('a signal after 23 hours is seen before the 24-hour deadline', async () => {
  const result = await run(async () => {
    const handle = await env.client.workflow.start(waitForFiling, { taskQueue, workflowId: wfId('signal') });
    const before = await env.currentTimeMs();
    await env.sleep('23 hours');
    expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(23 * HOUR);
    await handle.signal(fileSignal);
    return handle.result();
  });
  expect(result).toBe('filed');
});

test('a ~3-calendar-month (92-day) timer fires', async () => {
  const wallStart = Date.now();
  const slept = await run(() =>
    env.client.workflow.execute(sleepDays, { taskQueue, workflowId: wfId('months'), args: [92] }),
  );
  process.stdout.write(`92-day sleep: workflow time +${(slept / DAY).toFixed(2)} d in ${Date.now() - wallStart} ms wall\n`);
  expect(slept).toBeGreaterThanOrEqual(92 * DAY);
});

describe('workflow Update on the Java test server', () => {
  test('executeUpdate returns the handler result, the validator rejects, and the workflow sees the decision', async () => {
    await run(async () => {
      const handle = await env.client.workflow.start(humanTask, { taskQueue, workflowId: wfId('update') });

      await expect(
        handle.executeUpdate(decideUpdate, { args: [{ outcome: 'maybe' as 'approve', by: 'clerk' }] }),
      ).rejects.toThrow(WorkflowUpdateFailedError);

      await env.sleep('2 days'); // an Update still lands after time was skipped
      const ack = await handle.executeUpdate(decideUpdate, { args: [{ outcome: 'approve', by: 'clerk' }] });
      expect(ack).toBe('recorded approve by clerk');

      expect(await handle.query(decisionQuery)).toEqual({ outcome: 'approve', by: 'clerk' });

      // Still open (one-hour cool-off, time skipping locked until result() is awaited): the validator answers.
      await expect(
        handle.executeUpdate(decideUpdate, { args: [{ outcome: 'reject', by: 'other' }] }),
      ).rejects.toThrow(WorkflowUpdateFailedError);

      expect(await handle.result()).toBe('approve:clerk');

      // On a closed workflow the server refuses the Update (NOT_FOUND), as a real server does; the Java test
      // server's message is "update <id> not found" instead of "workflow execution already completed".
      await expect(
        handle.executeUpdate(decideUpdate, { args: [{ outcome: 'reject', by: 'late' }] }),
      ).rejects.toThrow(WorkflowNotFoundError);
    });
  });

  test('an undecided human task expires after its 7-day deadline', async () => {
    const result = await run(() => env.client.workflow.execute(humanTask, { taskQueue, workflowId: wfId('expire') }));
    expect(result).toBe('expired');
  });

  test('startUpdate with waitForStage ACCEPTED, then the handle result', async () => {
    await run(async () => {
      const handle = await env.client.workflow.start(humanTask, { taskQueue, workflowId: wfId('start-update') });
      const upd = await handle.startUpdate(decideUpdate, {
        args: [{ outcome: 'reject', by: 'chief' }],
        waitForStage: 'ACCEPTED',
      });
      expect(await upd.result()).toBe('recorded reject by chief');
      expect(await handle.result()).toBe('reject:chief');
    });
  });
});
