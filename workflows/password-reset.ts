// C3: a forgotten protection password is reset only through an application that the district officer
// approves. The approving officer hands the keeper, whose identity they checked in person, a one-time link
// made by the web at the decision; this history and the database hold only its SHA-256.
import { proxyActivities } from '@temporalio/workflow';
import type { ApplicationDbActivities } from '../activities';
import type { CaseState } from './application-messages';
import { createCaseDesk } from './case-desk';
import { awaitCaseRecord } from './case-record';
import { ACTIVITY_POLICIES as P, domainRefusal } from './activity-policies';

const db = proxyActivities<ApplicationDbActivities>(P.dbStatement);

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
  try {
    await db.issuePasswordResetLink({ caseId: input.caseId, tokenSha256: d.resetTokenSha256 ?? null });
  } catch (e) {
    // A refusal (the keeper was removed, the seal cancelled) fails the same way every time: the case says why.
    const refused = domainRefusal(e);
    if (!refused) throw e;
    desk.state.reason = { zh: `口令重置未能完成：${refused.messageZh}`, en: `Password reset not completed: ${refused.messageEn}` };
    await desk.moveTo('rejected', 'reset_failed', { code: refused.code }, d.officerId);
    await desk.finish(); // the officer's decision is answered (it took effect) before the workflow ends
    return desk.state;
  }
  await desk.moveTo('completed', 'reset_approved', {}, d.officerId);
  await desk.finish();
  return desk.state;
}
