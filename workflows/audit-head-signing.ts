// Signs the audit chain's head at intervals (M6, P1): a loop of one HSM activity that returns when it has
// signed (N new entries, or the oldest unsigned one T seconds old) or after T seconds with nothing to sign.
// One instance per namespace (ID `audit-head-signing`), continued as new before its history grows large.
import { ActivityCancellationType, continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createAuditHeadSigning } from '../activities/audit-heads';
import { auditHeadPolling, onQueue } from './activity-policies';

export const AUDIT_HEAD_SIGNING_WORKFLOW_ID = 'audit-head-signing';

export interface AuditHeadSigningInput {
  hsmTaskQueue: string;
  everyEntries: number;
  everySeconds: number;
  pollMs?: number;
  /** Loop iterations per run before continuing as new. */
  iterations?: number;
}

export async function auditHeadSigningWorkflow(input: AuditHeadSigningInput): Promise<void> {
  const hsm = proxyActivities<ReturnType<typeof createAuditHeadSigning>>({
    ...onQueue(input.hsmTaskQueue, auditHeadPolling(input.everySeconds)),
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED, // a cancelled loop ends once the HSM worker has let go
  });
  const iterations = input.iterations ?? 200;
  for (let i = 0; i < iterations && !workflowInfo().continueAsNewSuggested; i++) {
    await hsm.signAuditChainHead({ everyEntries: input.everyEntries, everySeconds: input.everySeconds, pollMs: input.pollMs });
  }
  await continueAsNew<typeof auditHeadSigningWorkflow>(input);
}
