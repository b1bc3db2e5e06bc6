// C3: a forgotten protection password is reset only through an application that the district officer
// approves. The approving officer hands the keeper, whose identity they checked in person, a one-time link
// made by the web at the decision; this history and the database hold only its SHA-256.
import { proxyActivities } from '@temporalio/workflow';
import type { ApplicationDbActivities } from '../activities';
import type { CaseState } from './application-messages';
import { createCaseDesk } from './case-desk';
import { awaitCaseRecord } from './case-record';

const db = proxyActivities<ApplicationDbActivities>({ startToCloseTimeout: '1 minute' });

export async function passwordResetWorkflow(input: { caseId: string; districtCode: string; startedBeforeRows?: boolean }): Promise<CaseState> {
  const desk = createCaseDesk(input.caseId, input.districtCode, 'awaiting_reset_approval');
  // Workflow first: nothing to do for a request whose row was refused or never written.
  if (input.startedBeforeRows && !(await awaitCaseRecord(input.caseId, db))) return desk.state;
  await desk.moveTo('awaiting_reset_approval', 'reset_approval_requested');
  await desk.openTask('password_reset_approval', null);
  const d = await desk.awaitDecision();
  if (d.decision !== 'accept') {
    desk.state.reason = { zh: `口令重置申请被退回：${d.reason}`, en: `Password reset refused: ${d.reason}` };
    await desk.moveTo('rejected', 'reset_refused', { reason: d.reason }, d.officerId);
    await desk.finish();
    return desk.state;
  }
  await db.issuePasswordResetLink({ caseId: input.caseId, tokenSha256: d.resetTokenSha256 ?? null });
  await desk.moveTo('completed', 'reset_approved', {}, d.officerId);
  await desk.finish();
  return desk.state;
}
