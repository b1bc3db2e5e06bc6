// The Temporal Schedule that keeps the CRL fresh: every quarter of pki.crlNextUpdateHours, so the CRL the web
// serves is re-issued three times before it could expire, even when no seal changes. Created or updated by
// the HSM worker at start-up (idempotent).
import { Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ConnectionLike } from '@temporalio/client';
import type { Config } from '../infra/config';
import { crlIssuanceWorkflow } from '../workflows/crl-issuance';

export const CRL_SCHEDULE_ID = 'crl-issuance';

/** Minutes between scheduled CRLs: a quarter of their validity, at least one minute. */
export const crlIntervalMinutes = (config: Pick<Config, 'pki'>) => Math.max(1, Math.floor((config.pki.crlNextUpdateHours * 60) / 4));

export async function ensureCrlSchedule(connection: ConnectionLike, config: Config): Promise<void> {
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const spec = { intervals: [{ every: `${crlIntervalMinutes(config)} minutes` }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: crlIssuanceWorkflow,
    workflowId: `${CRL_SCHEDULE_ID}-run`,
    taskQueue: config.temporal.taskQueues.main,
    args: [{ hsmTaskQueue: config.temporal.taskQueues.hsm }] as [{ hsmTaskQueue: string }],
  };
  try {
    await client.schedule.create({ scheduleId: CRL_SCHEDULE_ID, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' } });
  } catch (e) {
    if (!(e instanceof ScheduleAlreadyRunning)) throw e;
    // Configuration may have changed since it was created (validity, task queues).
    await client.schedule.getHandle(CRL_SCHEDULE_ID).update((prev) => ({ ...prev, spec, action }));
  }
}
