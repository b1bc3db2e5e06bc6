// /readyz: Temporal, PostgreSQL and the HSM, each checked for real and reported by name.
import { randomUUID } from 'node:crypto';
import type { Deps } from './platform-statements';
import { hsmHealthWorkflow } from '../workflows';

type Check = { ok: boolean; detail: string; ms: number };

async function timed(fn: () => Promise<string>): Promise<Check> {
  const start = Date.now();
  try {
    return { ok: true, detail: await fn(), ms: Date.now() - start };
  } catch (e) {
    return { ok: false, detail: (e as Error).message.split('\n')[0], ms: Date.now() - start };
  }
}

export async function readiness(deps: Deps) {
  const { config } = deps;
  const [temporal, postgresql, hsm] = await Promise.all([
    timed(async () => {
      await deps.temporal.workflowService.describeNamespace({ namespace: config.temporal.namespace });
      return `namespace ${config.temporal.namespace} at ${config.temporal.address}`;
    }),
    timed(async () => {
      const r = await deps.db.raw('select current_setting(\'server_version\') as v');
      return `PostgreSQL ${r.rows[0].v}`;
    }),
    timed(async () => {
      const status = await deps.temporal.workflow.execute(hsmHealthWorkflow, {
        taskQueue: config.temporal.taskQueues.main,
        workflowId: `readyz:${randomUUID()}`,
        workflowExecutionTimeout: '10 seconds',
        args: [{ challenge: randomUUID(), hsmTaskQueue: config.temporal.taskQueues.hsm }],
      });
      if (!status.loggedIn || !status.canSign) throw new Error('HSM worker answered but could not sign');
      return `logged in, signed with ${status.keyLabel}`;
    }),
  ]);
  const checks = { temporal, postgresql, hsm };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}
