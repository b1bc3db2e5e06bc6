// Starts the one audit-head signing loop of the namespace (idempotent: an existing one is kept).
// Policy from the environment: AUDIT_HEAD_EVERY_ENTRIES (default 1000) and AUDIT_HEAD_EVERY_SECONDS
// (default 60): a head is signed once that many entries are unsigned, or the oldest is that old.
import { Client, type ConnectionLike } from '@temporalio/client';
import type { Config } from '../infra/config';
import { AUDIT_HEAD_SIGNING_WORKFLOW_ID, auditHeadSigningWorkflow } from '../workflows/audit-head-signing';

function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return n;
}

export async function startAuditHeadSigning(connection: ConnectionLike, config: Config, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const client = new Client({ connection, namespace: config.temporal.namespace });
  await client.workflow.start(auditHeadSigningWorkflow, {
    taskQueue: config.temporal.taskQueues.main,
    workflowId: AUDIT_HEAD_SIGNING_WORKFLOW_ID,
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [
      {
        hsmTaskQueue: config.temporal.taskQueues.hsm,
        everyEntries: positiveInt(env.AUDIT_HEAD_EVERY_ENTRIES, 1000, 'AUDIT_HEAD_EVERY_ENTRIES'),
        everySeconds: positiveInt(env.AUDIT_HEAD_EVERY_SECONDS, 60, 'AUDIT_HEAD_EVERY_SECONDS'),
      },
    ],
  });
}
