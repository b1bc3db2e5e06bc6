// One application case, from the maker's submission to a collected seal (or its cancellation when
// unclaimed). People's steps are tasks in PostgreSQL decided through Updates; every transition is
// projected to PostgreSQL by an idempotent activity keyed by case and step.
import { ParentClosePolicy, condition, patched, proxyActivities, setHandler, startChild } from '@temporalio/workflow';
import type { ApplicationDbActivities, ApplicationHsmActivities } from '../activities';
import { addCalendarMonthsEndOfDay } from '../domain/calendar';
import {
  closeFailedProductionUpdate,
  licenceChangedSignal,
  materialsSubmittedUpdate,
  recordCollectionUpdate,
  recordProductionUpdate,
  type CaseState,
  type CollectionInput,
  type ProductionInput,
} from './application-messages';
import { createCaseDesk, NOTIFY_PATCH, now, wrongState } from './case-desk';
import { productionFailedReason, productionImpossible } from './production-failure';
import { sealWorkflow } from './seal';
import { startArchiveRetention } from './retention-archive';
import { awaitCaseRecord } from './case-record';
import { ACTIVITY_POLICIES as P, onQueue } from './activity-policies';
import { SIGN_DOCUMENTS_PATCH } from './document-signing-patch';

export interface ApplicationInput {
  caseId: string;
  sealId: string;
  makerId: string;
  districtCode: string;
  needsEstablishmentApproval: boolean;
  hsmTaskQueue: string;
  /** M3, from temporal.yaml (PT24H). */
  filingDeadlineMs: number;
  /** M9, from temporal.yaml (P3M), counted on the Asia/Shanghai calendar. */
  unclaimedMonths: number;
  /** Started before the case's rows were written (workflow first); absent in runs started before that. */
  startedBeforeRows?: boolean;
}

/** Runs started before the SESeal was made at production replay without that step. */
export const NATIONAL_SEAL_AT_PRODUCTION_PATCH = 'national-seal-at-production';

const db = proxyActivities<ApplicationDbActivities>(P.dbStatement);
/** M9 reminder: the holder is told this long before an uncollected seal is cancelled (issue 14). */
const UNCLAIMED_REMINDER_MS = 14 * 24 * 3600_000;
const documents = proxyActivities<ApplicationDbActivities>(P.documentRendering);
/** A failed production answers the maker's production request at once (see step 3). */
const PRODUCTION_FAILED_ANSWER_PATCH = 'production-failed-answers-at-rest';

export async function applicationWorkflow(input: ApplicationInput): Promise<CaseState> {
  // HSM operations take milliseconds: a short timeout lets another HSM worker take over from a dead one quickly.
  const hsm = proxyActivities<ApplicationHsmActivities>(onQueue(input.hsmTaskQueue, P.hsmOperation));
  const desk = createCaseDesk(input.caseId, input.districtCode, 'materials_required', input.makerId);
  const { state, record, moveTo, openTask, awaitDecision, waitFor, finish } = desk;
  let production: ProductionInput | null = null;
  let productionAnswer: { status: CaseState['status'] } | null = null;
  let collection: CollectionInput | null = null;
  let failureClosedBy: string | null = null;
  let licenceChanged = false;

  /** M1: a maker whose licence is not valid neither starts nor continues production. */
  async function ensureLicence() {
    for (;;) {
      const licence = await db.checkMakerLicence({ makerId: input.makerId, at: now() });
      if (licence.valid) {
        if (state.status === 'licence_paused') state.reason = null;
        return;
      }
      const resumeTo = state.status === 'licence_paused' ? null : state.status;
      state.reason = { zh: licence.reasonZh, en: licence.reasonEn };
      licenceChanged = false; // before the projection: a change signalled as soon as it is visible still counts
      await moveTo('licence_paused', 'licence_paused', { reason: licence.reasonEn });
      await waitFor(() => licenceChanged);
      if (resumeTo) state.status = resumeTo;
    }
  }

  setHandler(licenceChangedSignal, () => {
    licenceChanged = true;
  });
  setHandler(
    materialsSubmittedUpdate,
    async () => {
      const { missing } = await db.checkMaterials({ caseId: input.caseId });
      state.missingMaterials = missing;
      if (missing.length > 0) await moveTo('materials_required', 'materials_submitted', { missing });
      return { missing };
    },
    { validator: () => { if (state.status !== 'materials_required') throw wrongState(state, { zh: '补交材料', en: 'submit materials' }); } },
  );
  setHandler(
    recordProductionUpdate,
    async (p) => {
      production = p;
      if (!desk.answersAtRest) return { status: state.status };
      await condition(() => productionAnswer !== null); // the state production led to (issue 16.6)
      return productionAnswer!;
    },
    { validator: (_p: ProductionInput) => { if (state.status !== 'awaiting_production' || production) throw wrongState(state, { zh: '录入制作信息', en: 'record production' }); } },
  );
  setHandler(
    recordCollectionUpdate,
    (c) => {
      collection = c;
      return { status: state.status };
    },
    { validator: (_c: CollectionInput) => { if (state.status !== 'ready' || collection) throw wrongState(state, { zh: '登记领取', en: 'record collection' }); } },
  );

  setHandler(
    closeFailedProductionUpdate,
    ({ actorId }) => {
      failureClosedBy = actorId;
      return { status: state.status };
    },
    { validator: (_c: { actorId: string }) => { if (state.status !== 'production_failed' || failureClosedBy) throw wrongState(state, { zh: '关闭制作失败的案件', en: 'close a failed production' }); } },
  );
  // 0. Workflow first: nothing to do for a submission whose rows were refused or never written.
  if (input.startedBeforeRows && !(await awaitCaseRecord(input.caseId, db))) {
    state.reason = { zh: '申请未保存（被拒绝或中断），未办理', en: 'The application was not stored (refused or interrupted); nothing was done' };
    return state;
  }

  // 1. Materials (A2; A3 holders have none to give).
  state.missingMaterials = (await db.checkMaterials({ caseId: input.caseId })).missing;
  if (state.missingMaterials.length > 0) {
    await moveTo('materials_required', 'materials_required', { missing: state.missingMaterials });
    await waitFor(() => state.missingMaterials.length === 0);
    await record('materials_complete');
  }

  // 2. A4: a newly established state organ or people's organisation needs an officer's approval.
  if (input.needsEstablishmentApproval) {
    await moveTo('awaiting_establishment_approval', 'establishment_approval_requested');
    await openTask('establishment_approval', null);
    const d = await awaitDecision();
    if (d.decision !== 'accept') {
      state.reason = { zh: `设立文件未获批准：${d.reason}`, en: `Establishment document not approved: ${d.reason}` };
      await db.markSealCancelled({ sealId: input.sealId, reason: 'application_rejected', at: now() });
      await moveTo('rejected', 'establishment_rejected', { reason: d.reason }, d.officerId);
      await finish();
      return state;
    }
    await record('establishment_approved', {}, d.officerId);
  }

  // 3. Production (M1, M2, M4, S3).
  await ensureLicence();
  await moveTo('awaiting_production', 'awaiting_production');
  await waitFor(() => production !== null);
  const p = production!;
  desk.answerAtRest(() => (productionAnswer = { status: state.status }));
  await ensureLicence();
  await moveTo('producing', 'production_recorded', {}, p.actorId);
  await db.recordProductionData({ caseId: input.caseId, productionData: p.productionData, onSiteImageMaterialId: p.onSiteImageMaterialId, authorId: p.actorId });
  const sealCode = await db.assignSealCode({ sealId: input.sealId });
  try {
    await hsm.generateSealKey({ sealId: input.sealId });
    await hsm.issueSealCertificate({ sealId: input.sealId });
    await db.renderImprint({ sealId: input.sealId });
    await hsm.bindImprint({ sealId: input.sealId });
    // Issue 13: the seal data (GB/T 38540 SESeal v4) with its SM2 key and certificate, at production (cases
    // started before this step make it on first OFD use; the activity does nothing when the suite is intl).
    if (patched(NATIONAL_SEAL_AT_PRODUCTION_PATCH)) await hsm.makeNationalSealAtProduction({ sealId: input.sealId });
  } catch (e) {
    const failure = productionImpossible(e);
    if (!failure) throw e;
    // Nothing issued may stay valid: the certificate is revoked (CRL and OCSP), the key destroyed.
    const at = now();
    await hsm.destroySealKey({ sealId: input.sealId, at });
    await db.markSealCancelled({ sealId: input.sealId, reason: 'production_failed', at });
    await hsm.regenerateCrl({});
    state.reason = productionFailedReason(failure);
    await moveTo('production_failed', 'production_failed', { code: failure.code, zh: failure.zh, en: failure.en });
    // The maker's task: tell the holder (who applies again with corrected data), then close the case. This is
    // a rest: the production request is answered now, with production_failed (issue 16.6), instead of waiting
    // out its 20 s and answering 202 "producing" (runs started before the patch keep the old wait).
    if (patched(PRODUCTION_FAILED_ANSWER_PATCH)) await waitFor(() => failureClosedBy !== null);
    else await condition(() => failureClosedBy !== null);
    await moveTo('production_abandoned', 'production_abandoned', {}, failureClosedBy);
    return state;
  }
  const producedAt = now();
  await db.markProduced({ sealId: input.sealId, at: producedAt });
  await record('produced', { sealCode });

  // 4. Filing within 24 hours (M3); overdue the moment the deadline passes, and still waiting.
  await desk.fileWithPolice('production', producedAt, input.filingDeadlineMs);

  // 5. Ready; collected within 3 calendar months (M10) or cancelled as unclaimed (M9, M13).
  state.reason = null;
  const readyAt = now();
  const unclaimedDueAt = addCalendarMonthsEndOfDay(new Date(readyAt), input.unclaimedMonths).toISOString();
  state.unclaimedDueAt = unclaimedDueAt;
  await db.markReady({ sealId: input.sealId, at: readyAt, unclaimedDueAt });
  await moveTo('ready', 'ready', { unclaimedDueAt });
  // M9: the holder is told 2 weeks before the cancellation (runs started before that patch are not).
  const remindInMs = Date.parse(unclaimedDueAt) - UNCLAIMED_REMINDER_MS - Date.now();
  const remindedEarly = patched(NOTIFY_PATCH) && remindInMs > 0;
  if (remindedEarly && !(await waitFor(() => collection !== null, remindInMs))) {
    await db.postCaseMessage({ caseId: input.caseId, kind: 'seal_unclaimed_reminder', at: now(), dueAt: unclaimedDueAt });
  }
  const collected = await waitFor(() => collection !== null, Math.max(0, Date.parse(unclaimedDueAt) - Date.now()));
  if (collected) {
    const c = collection!;
    await db.recordCollection({ sealId: input.sealId, collectorName: c.collectorName, at: now() });
    await documents.produceDocument({ sealId: input.sealId, kind: 'production_certificate', reason: null });
    if (patched(SIGN_DOCUMENTS_PATCH)) await hsm.signSealDocument({ sealId: input.sealId, kind: 'production_certificate' });
    if (patched(NOTIFY_PATCH)) await db.postCaseMessage({ caseId: input.caseId, kind: 'production_certificate_ready', at: now() });
    // From here the seal lives in its own long-running workflow (suspend, resume, stop, cancel, replace).
    await startChild(sealWorkflow, {
      workflowId: `seal:${input.sealId}`,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [{ sealId: input.sealId, districtCode: input.districtCode, hsmTaskQueue: input.hsmTaskQueue, status: 'active' }],
    });
    await moveTo('collected', 'collected', {}, c.actorId);
    await finish();
    return state;
  }

  const cancelledAt = now();
  await db.enterUnclaimedLedger({ sealId: input.sealId, caseId: input.caseId, districtCode: input.districtCode, readyAt, dueAt: unclaimedDueAt, at: cancelledAt });
  await hsm.destroySealKey({ sealId: input.sealId, at: cancelledAt });
  await db.markSealCancelled({ sealId: input.sealId, reason: 'unclaimed', at: cancelledAt });
  await startArchiveRetention(input.sealId, { kind: 'cancelled', at: cancelledAt }); // M7
  await hsm.regenerateCrl({});
  await documents.produceDocument({ sealId: input.sealId, kind: 'cancellation_certificate', reason: 'unclaimed' });
  if (patched(SIGN_DOCUMENTS_PATCH)) await hsm.signSealDocument({ sealId: input.sealId, kind: 'cancellation_certificate' });
  state.reason = { zh: '超过三个月未领取，已登出', en: 'Not collected within 3 months; cancelled' };
  await moveTo('cancelled_unclaimed', 'cancelled_unclaimed', { unclaimedDueAt });
  // The maker's unclaimed ledger files the cancellation with the district at once (M9, M13).
  const cancellationDue = new Date(Date.parse(cancelledAt) + input.filingDeadlineMs).toISOString();
  await db.openFilingDeadline({ caseId: input.caseId, kind: 'cancellation', startedAt: cancelledAt, dueAt: cancellationDue });
  const taskId = await openTask('cancellation_filing', cancellationDue);
  const { filingId } = await db.recordFiling({ caseId: input.caseId, kind: 'cancellation', round: 1, data: { reason: 'unclaimed' }, late: false, taskId, submittedBy: null, at: cancelledAt });
  const d = await awaitDecision();
  await db.decideFiling({ caseId: input.caseId, kind: 'cancellation', round: 1, accepted: d.decision === 'accept', reason: d.reason, at: now() });
  await record(`cancellation_filing_${d.decision}`, { filingId }, d.officerId);
  await finish();
  return state;
}
