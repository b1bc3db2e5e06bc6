// A3 exchange: the market-regulation authority's signed batches, imported once each. The inbox workflow runs on
// the `registration-inbox` Schedule (usecases/registration-exchange.ts); a batch posted over HTTPS starts its own
// workflow (ID registration-batch:<sha-256>), so the same batch delivered twice is one workflow.
import { proxyActivities } from '@temporalio/workflow';
import type { DbActivities } from '../activities';
import type { BatchReport } from '../activities/registration-exchange';
import { ACTIVITY_POLICIES } from './activity-policies';

// Reading files and a transaction per batch: retried until PostgreSQL or the disk heals (idempotent).
const db = proxyActivities<DbActivities>({ ...ACTIVITY_POLICIES.dbStatement, startToCloseTimeout: '1 minute' });

export async function registrationBatchWorkflow(input: { batchId: string }): Promise<BatchReport> {
  return db.importRegistrationBatch({ batchId: input.batchId });
}

export async function registrationInboxWorkflow(): Promise<{ imported: string[] }> {
  const ids = await db.collectRegistrationInbox();
  for (const batchId of ids) await db.importRegistrationBatch({ batchId });
  return { imported: ids };
}
