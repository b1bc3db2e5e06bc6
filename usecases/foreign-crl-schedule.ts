// I2: the Temporal Schedule that fetches the listed platforms' CRLs again (workflows/foreign-crl-refresh.ts),
// every hour by default (FOREIGN_CRL_REFRESH_MINUTES), so verification and filing find a current CRL in the
// cache. Created or updated by the main worker at start-up (idempotent).
import { Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ConnectionLike } from '@temporalio/client';
import type { Config } from '../infra/config';
import { foreignCrlRefreshWorkflow } from '../workflows/foreign-crl-refresh';

export const FOREIGN_CRL_SCHEDULE_ID = 'foreign-crl-refresh';
export const foreignCrlRefreshMinutes = (env: NodeJS.ProcessEnv = process.env) => Math.max(1, Number(env.FOREIGN_CRL_REFRESH_MINUTES ?? 60) || 60);

export async function ensureForeignCrlSchedule(connection: ConnectionLike, config: Config, minutes = foreignCrlRefreshMinutes()): Promise<void> {
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const spec = { intervals: [{ every: `${minutes} minutes` }] };
  const action = { type: 'startWorkflow' as const, workflowType: foreignCrlRefreshWorkflow, workflowId: `${FOREIGN_CRL_SCHEDULE_ID}-run`, taskQueue: config.temporal.taskQueues.main, args: [] as [] };
  try {
    await client.schedule.create({ scheduleId: FOREIGN_CRL_SCHEDULE_ID, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' } });
  } catch (e) {
    if (!(e instanceof ScheduleAlreadyRunning)) throw e;
    await client.schedule.getHandle(FOREIGN_CRL_SCHEDULE_ID).update((prev) => ({ ...prev, spec, action }));
  }
}
