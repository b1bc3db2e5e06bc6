// The issuing CA's CRL, issued on a Temporal Schedule (ID `crl-issuance`, usecases/crl-schedule.ts) by an
// activity on the HSM queue, well before the current one's nextUpdate; every status change issues one too
// (seal.ts). The web only serves the latest CRL from PostgreSQL and never signs one.
import { proxyActivities } from '@temporalio/workflow';
import type { ApplicationHsmActivities } from '../activities';

export interface CrlIssuanceInput {
  hsmTaskQueue: string;
}

export async function crlIssuanceWorkflow(input: CrlIssuanceInput): Promise<{ crlNumber: string }> {
  // A new CRL is idempotent in effect (one more number, same content), so retrying is safe; bounded so a
  // run does not outlive the next scheduled one (overlap SKIP).
  const hsm = proxyActivities<ApplicationHsmActivities>({
    taskQueue: input.hsmTaskQueue,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 20 },
  });
  return hsm.regenerateCrl({});
}
