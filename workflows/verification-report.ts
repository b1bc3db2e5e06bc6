// U2 P2: the verification report as a PDF signed by the platform, `verification-report:<id>`: the main
// worker renders the kept report (Chromium), then the HSM worker signs it with the platform key. Both steps
// keep their result in the report's row (activities/verification-report.ts), so the payloads are the row id.
// The caller waits a bounded time (usecases/verification-report.ts); the run's own timeout ends the
// retries soon after, so a broken renderer or HSM leaves nothing retrying for nobody.
import { proxyActivities } from '@temporalio/workflow';
import type { DbActivities, HsmActivities } from '../activities';
import { ACTIVITY_POLICIES as P, onQueue } from './activity-policies';

export interface VerificationReportInput {
  reportId: string;
  hsmTaskQueue: string;
}

const db = proxyActivities<DbActivities>(P.documentRendering);

export async function verificationReportWorkflow(input: VerificationReportInput): Promise<{ reportId: string }> {
  const hsm = proxyActivities<HsmActivities>(onQueue(input.hsmTaskQueue, P.hsmOperation));
  await db.renderVerificationReport({ reportId: input.reportId });
  await hsm.signVerificationReport({ reportId: input.reportId });
  return { reportId: input.reportId };
}
