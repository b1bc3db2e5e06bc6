// A lifecycle request (suspend, resume, stop, cancel, replace) or a compromise report: started first (issue 10.5, id derived from the
// request), it has the seal's workflow apply the change, starts the replacement's application (M11), and files
// the change with the holder's district under the same 24-hour rule as production (M12, M13). A crash at any
// point resumes here, so a cancelled seal never lacks its filing or its replacement.
import { ParentClosePolicy, proxyActivities, startChild } from '@temporalio/workflow';
import type { ApplicationDbActivities, ApplicationHsmActivities } from '../activities';
import type { CaseState } from './application-messages';
import { createCaseDesk, now } from './case-desk';
import type { FilingKind } from './case-desk';
import type { CancellationReason, ChangeKind, RevocationReason, SealLifeStatus } from './seal-messages';
import { awaitCaseRecord } from './case-record';
import { ACTIVITY_POLICIES as P, onQueue } from './activity-policies';
import { applicationWorkflow } from './application';

export interface ChangeRequestInput {
  caseId: string;
  kind: Exclude<FilingKind, 'production' | 'cancellation'> | 'cancel';
  districtCode: string;
  filingDeadlineMs: number;
  /** Workflow first: the change to apply once the request's rows are stored. Absent in runs started after the change was applied. */
  apply?: {
    sealId: string;
    change: ChangeKind;
    reason: CancellationReason | null;
    revocationReason?: RevocationReason;
    /** A compromise report (M13): since when the key is known or suspected compromised. */
    invalidityDate?: string | null;
    hsmTaskQueue: string;
    replacement: { newCaseId: string; newSealId: string; newHolderName: string | null; makerId: string; actorId: string; unclaimedMonths: number } | null;
    /** M11: the holder's other live seals a name change replaces, each in its own new application. */
    replaceAlso?: Array<{ sealId: string; newCaseId: string; newSealId: string }>;
    /** M11: the old legal representative's personal-name seals a change of legal representative cancels. */
    cancelAlso?: string[];
    /** Repair of a request an earlier version applied before its workflow existed: the seal's status it left. */
    alreadyApplied?: SealLifeStatus;
  };
}

const db = proxyActivities<ApplicationDbActivities>(P.dbStatement);

export async function changeRequestWorkflow(input: ChangeRequestInput): Promise<CaseState> {
  const desk = createCaseDesk(input.caseId, input.districtCode, 'processing');
  let processed: Record<string, unknown> = { kind: input.kind };
  const a = input.apply;
  if (a) {
    if (!(await awaitCaseRecord(input.caseId, db))) return desk.state;
    const outcome = a.alreadyApplied ? { applied: true as const, status: a.alreadyApplied } : await db.applySealChange({ sealId: a.sealId, changeCaseId: input.caseId, kind: a.change, reason: a.reason, ...(a.revocationReason ? { revocationReason: a.revocationReason } : {}), ...(a.invalidityDate !== undefined ? { invalidityDate: a.invalidityDate } : {}) });
    if (!outcome.applied) {
      // The request stays on record as refused, with the reason (the web answers 409 with it).
      desk.state.reason = { zh: outcome.zh, en: outcome.en };
      await desk.moveTo('refused', 'refused', { zh: outcome.zh, en: outcome.en, sealStatus: outcome.status });
      return desk.state;
    }
    processed = { ...processed, sealStatus: outcome.status };
    if (a.replacement) {
      const r = a.replacement;
      const hsm = proxyActivities<ApplicationHsmActivities>(onQueue(a.hsmTaskQueue, P.hsmOperation));
      await hsm.createReplacementApplication({ changeCaseId: input.caseId, oldSealId: a.sealId, newCaseId: r.newCaseId, newSealId: r.newSealId, newHolderName: r.newHolderName, actorId: r.actorId });
      await startChild(applicationWorkflow, {
        workflowId: `application:${r.newCaseId}`,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [{ caseId: r.newCaseId, sealId: r.newSealId, makerId: r.makerId, districtCode: input.districtCode, needsEstablishmentApproval: false, hsmTaskQueue: a.hsmTaskQueue, filingDeadlineMs: input.filingDeadlineMs, unclaimedMonths: r.unclaimedMonths }],
      });
      processed = { ...processed, replacementCaseId: r.newCaseId };
      // M11: the same for each other live seal of the holder (a name change): cancelled as superseded, replaced.
      const alsoReplaced: Array<{ sealId: string; replacementCaseId: string }> = [];
      for (const other of a.replaceAlso ?? []) {
        const done = await db.applySealChange({ sealId: other.sealId, changeCaseId: input.caseId, kind: 'cancel', reason: 'replacement', revocationReason: 'superseded' });
        if (!done.applied) continue; // cancelled meanwhile: nothing left to replace
        await hsm.createReplacementApplication({ changeCaseId: input.caseId, oldSealId: other.sealId, newCaseId: other.newCaseId, newSealId: other.newSealId, newHolderName: r.newHolderName, actorId: r.actorId });
        await startChild(applicationWorkflow, {
          workflowId: `application:${other.newCaseId}`,
          parentClosePolicy: ParentClosePolicy.ABANDON,
          args: [{ caseId: other.newCaseId, sealId: other.newSealId, makerId: r.makerId, districtCode: input.districtCode, needsEstablishmentApproval: false, hsmTaskQueue: a.hsmTaskQueue, filingDeadlineMs: input.filingDeadlineMs, unclaimedMonths: r.unclaimedMonths }],
        });
        alsoReplaced.push({ sealId: other.sealId, replacementCaseId: other.newCaseId });
      }
      if (a.replaceAlso) processed = { ...processed, alsoReplaced };
    }
    if (a.cancelAlso) {
      // M11: the old legal representative's personal-name seals end with the change of legal representative.
      const alsoCancelled: string[] = [];
      for (const sealId of a.cancelAlso) {
        const done = await db.applySealChange({ sealId, changeCaseId: input.caseId, kind: 'cancel', reason: 'holder_request', revocationReason: 'cessationOfOperation' });
        if (done.applied) alsoCancelled.push(sealId);
      }
      processed = { ...processed, alsoCancelled };
    }
  }
  const processedAt = now();
  await desk.record('processed', processed);
  await desk.fileWithPolice(input.kind === 'cancel' ? 'cancellation' : input.kind, processedAt, input.filingDeadlineMs);
  await desk.moveTo('completed', 'completed');
  await desk.finish();
  return desk.state;
}
