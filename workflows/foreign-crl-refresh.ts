// I2: the CRLs of the listed platforms, fetched again on a Temporal Schedule (ID `foreign-crl-refresh`,
// usecases/foreign-crl-schedule.ts) so verification finds a current one in the cache. One activity on the
// main queue fetches them all; a platform whose server is down keeps its last good CRL (and the error).
import { proxyActivities } from '@temporalio/workflow';
import type { TrustListActivities } from '../activities/trust-list';

export async function foreignCrlRefreshWorkflow(): Promise<{ refreshed: number; failed: number }> {
  // Fetching is idempotent; bounded so a run does not outlive the next scheduled one (overlap SKIP).
  const act = proxyActivities<TrustListActivities>({ startToCloseTimeout: '2 minutes', retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 } });
  return act.refreshForeignCrls();
}
