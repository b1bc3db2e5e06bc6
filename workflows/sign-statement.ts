// The platform signs a statement with its key in the HSM and keeps it in PostgreSQL.
// Used for anything the platform must vouch for later (imprint bindings, audit chain heads).
import { proxyActivities } from '@temporalio/workflow';
import type { DbActivities, HsmActivities } from '../activities';
import { ACTIVITY_POLICIES as P, onQueue } from './activity-policies';

export interface SignStatementInput {
  statementId: string;
  kind: string;
  payload: Record<string, unknown>;
  requestedBy: string | null;
  hsmTaskQueue: string;
}

const db = proxyActivities<DbActivities>(P.dbStatement);

export async function signStatementWorkflow(input: SignStatementInput): Promise<{ statementId: string }> {
  // Signing takes milliseconds; a short timeout lets a retry on another worker take over from a dead one.
  const hsm = proxyActivities<HsmActivities>(onQueue(input.hsmTaskQueue, P.hsmOperation));
  const signed = await hsm.signPlatformStatement({ kind: input.kind, payload: input.payload });
  await db.storePlatformStatement({ ...signed, statementId: input.statementId, requestedBy: input.requestedBy });
  return { statementId: input.statementId };
}
