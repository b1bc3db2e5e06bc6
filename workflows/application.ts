// One application case, from the maker's submission to a collected seal (or its cancellation when
// unclaimed). People's steps are tasks in PostgreSQL decided through Updates; every transition is
// projected to PostgreSQL by an idempotent activity keyed by case and step.
import {
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { ApplicationDbActivities, ApplicationHsmActivities } from '../activities';
import { addCalendarMonthsEndOfDay } from '../domain/calendar';
import {
  caseStateQuery,
  decideTaskUpdate,
  licenceChangedSignal,
  materialsSubmittedUpdate,
  recordCollectionUpdate,
  recordProductionUpdate,
  submitFilingUpdate,
  WRONG_STATE,
  type CaseState,
  type CaseStatus,
  type CollectionInput,
  type DecisionInput,
  type FilingInput,
  type ProductionInput,
  type TaskKind,
} from './application-messages';

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
}

export const CaseStatusKey = defineSearchAttributeKey('CaseStatus', 'KEYWORD');

const db = proxyActivities<ApplicationDbActivities>({ startToCloseTimeout: '1 minute' });
const documents = proxyActivities<ApplicationDbActivities>({ startToCloseTimeout: '2 minutes' });

const wrongState = (state: CaseState, action: { zh: string; en: string }) =>
  ApplicationFailure.create({
    type: WRONG_STATE,
    nonRetryable: true,
    message: `Cannot ${action.en} while the case is ${state.status}`,
    details: [{ zh: `案件当前状态为 ${state.status}，不能${action.zh}`, en: `Cannot ${action.en} while the case is ${state.status}`, status: state.status }],
  });

export async function applicationWorkflow(input: ApplicationInput): Promise<CaseState> {
  // HSM operations take milliseconds: a short timeout lets another HSM worker take over from a dead one quickly.
  const hsm = proxyActivities<ApplicationHsmActivities>({ taskQueue: input.hsmTaskQueue, startToCloseTimeout: '10 seconds' });
  const state: CaseState = {
    status: 'materials_required',
    reason: null,
    missingMaterials: [],
    openTask: null,
    filingDueAt: null,
    filingOverdue: false,
    unclaimedDueAt: null,
  };
  let step = 0; // orders the timeline's event keys
  let production: ProductionInput | null = null;
  let filing: FilingInput | null = null;
  let decision: DecisionInput | null = null;
  let collection: CollectionInput | null = null;
  let licenceChanged = false;
  let filingRound = 0;

  const now = () => new Date(Date.now()).toISOString();
  async function moveTo(status: CaseStatus, event: string, data: Record<string, unknown> = {}, actorId: string | null = null) {
    state.status = status;
    upsertSearchAttributes([{ key: CaseStatusKey, value: status }]);
    await db.projectCase({
      caseId: input.caseId,
      status,
      reason: state.reason,
      missingMaterials: state.missingMaterials,
      event: { key: `${++step}:${event}`, type: event, data, actorId, at: now() },
    });
  }
  async function openTask(kind: TaskKind, dueAt: string | null) {
    const id = uuid4();
    await db.openTask({ taskId: id, caseId: input.caseId, kind, districtCode: input.districtCode, dueAt });
    state.openTask = { id, kind };
    decision = null;
    return id;
  }
  async function awaitDecision(): Promise<DecisionInput> {
    await condition(() => decision !== null);
    const d = decision!;
    decision = null;
    await db.closeTask({ taskId: d.taskId, decision: d.decision, reason: d.reason, decidedBy: d.officerId, at: now() });
    state.openTask = null;
    return d;
  }
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
      await condition(() => licenceChanged);
      if (resumeTo) state.status = resumeTo;
    }
  }

  setHandler(caseStateQuery, () => state);
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
    (p) => {
      production = p;
      return { status: state.status };
    },
    { validator: (_p: ProductionInput) => { if (state.status !== 'awaiting_production' || production) throw wrongState(state, { zh: '录入制作信息', en: 'record production' }); } },
  );
  setHandler(
    submitFilingUpdate,
    async (f) => {
      const round = ++filingRound;
      const late = Date.now() > Date.parse(state.filingDueAt!);
      state.status = 'filing_under_review';
      const taskId = await openTask('filing_review', null);
      const { filingId } = await db.recordFiling({ caseId: input.caseId, kind: 'production', round, data: f.data, late, taskId, submittedBy: f.actorId, at: now() });
      await moveTo('filing_under_review', 'filing_submitted', { round, late }, f.actorId);
      filing = f; // only now: the task exists, so the main loop can wait for its decision
      return { filingId, late, taskId };
    },
    {
      validator: (_f: FilingInput) => {
        if (!['awaiting_filing', 'filing_returned'].includes(state.status)) throw wrongState(state, { zh: '备案', en: 'file with the police' });
      },
    },
  );
  setHandler(
    decideTaskUpdate,
    (d) => {
      decision = d;
      return { status: state.status };
    },
    {
      validator: (d) => {
        if (!state.openTask || state.openTask.id !== d.taskId || decision) throw wrongState(state, { zh: '处理该任务', en: 'decide this task' });
        if (d.decision === 'return' && !d.reason?.trim()) {
          throw ApplicationFailure.create({ type: 'InvalidDecision', nonRetryable: true, message: 'A return needs a reason', details: [{ zh: '退回必须说明理由', en: 'A return needs a reason', field: 'reason' }] });
        }
      },
    },
  );
  setHandler(
    recordCollectionUpdate,
    (c) => {
      collection = c;
      return { status: state.status };
    },
    { validator: (_c: CollectionInput) => { if (state.status !== 'ready' || collection) throw wrongState(state, { zh: '登记领取', en: 'record collection' }); } },
  );

  // 1. Materials (A2; A3 holders have none to give).
  state.missingMaterials = (await db.checkMaterials({ caseId: input.caseId })).missing;
  if (state.missingMaterials.length > 0) {
    await moveTo('materials_required', 'materials_required', { missing: state.missingMaterials });
    await condition(() => state.missingMaterials.length === 0);
    await db.projectCase({ caseId: input.caseId, status: state.status, reason: null, missingMaterials: [], event: { key: `${++step}:materials_complete`, type: 'materials_complete', data: {}, actorId: null, at: now() } });
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
      return state;
    }
    await db.projectCase({ caseId: input.caseId, status: state.status, reason: null, missingMaterials: [], event: { key: `${++step}:establishment_approved`, type: 'establishment_approved', data: {}, actorId: d.officerId, at: now() } });
  }

  // 3. Production (M1, M2, M4, S3).
  await ensureLicence();
  await moveTo('awaiting_production', 'awaiting_production');
  await condition(() => production !== null);
  await ensureLicence();
  const p = production!;
  await moveTo('producing', 'production_recorded', {}, p.actorId);
  await db.recordProductionData({ caseId: input.caseId, productionData: p.productionData, onSiteImageMaterialId: p.onSiteImageMaterialId });
  const sealCode = await db.assignSealCode({ sealId: input.sealId });
  await hsm.generateSealKey({ sealId: input.sealId });
  await hsm.issueSealCertificate({ sealId: input.sealId });
  await db.renderImprint({ sealId: input.sealId });
  await hsm.bindImprint({ sealId: input.sealId });
  const producedAt = now();
  await db.markProduced({ sealId: input.sealId, at: producedAt });

  // 4. Filing within 24 hours (M3); overdue the moment the deadline passes, and still waiting.
  const dueAt = new Date(Date.parse(producedAt) + input.filingDeadlineMs).toISOString();
  state.filingDueAt = dueAt;
  await db.openFilingDeadline({ caseId: input.caseId, kind: 'production', startedAt: producedAt, dueAt });
  await moveTo('awaiting_filing', 'produced', { sealCode, filingDueAt: dueAt });
  for (;;) {
    const filedInTime = await condition(() => filing !== null, Math.max(0, Date.parse(dueAt) - Date.now()));
    if (!filedInTime && !state.filingOverdue) {
      state.filingOverdue = true;
      await db.markFilingOverdue({ caseId: input.caseId, kind: 'production', at: now() });
      await db.projectCase({ caseId: input.caseId, status: state.status, reason: null, missingMaterials: [], event: { key: `${++step}:filing_overdue`, type: 'filing_overdue', data: { dueAt }, actorId: null, at: now() } });
      await condition(() => filing !== null);
    }
    const d = await awaitDecision();
    await db.decideFiling({ caseId: input.caseId, kind: 'production', round: filingRound, accepted: d.decision === 'accept', reason: d.reason, at: now() });
    if (d.decision === 'accept') {
      await db.projectCase({ caseId: input.caseId, status: state.status, reason: null, missingMaterials: [], event: { key: `${++step}:filing_accepted`, type: 'filing_accepted', data: {}, actorId: d.officerId, at: now() } });
      break;
    }
    filing = null;
    state.reason = { zh: `备案被退回：${d.reason}`, en: `Filing returned: ${d.reason}` };
    await moveTo('filing_returned', 'filing_returned', { reason: d.reason }, d.officerId);
  }

  // 5. Ready; collected within 3 calendar months (M10) or cancelled as unclaimed (M9, M13).
  state.reason = null;
  const readyAt = now();
  const unclaimedDueAt = addCalendarMonthsEndOfDay(new Date(readyAt), input.unclaimedMonths).toISOString();
  state.unclaimedDueAt = unclaimedDueAt;
  await db.markReady({ sealId: input.sealId, at: readyAt, unclaimedDueAt });
  await moveTo('ready', 'ready', { unclaimedDueAt });
  const collected = await condition(() => collection !== null, Math.max(0, Date.parse(unclaimedDueAt) - Date.now()));
  if (collected) {
    const c = collection!;
    await db.recordCollection({ sealId: input.sealId, collectorName: c.collectorName, at: now() });
    await documents.produceDocument({ sealId: input.sealId, kind: 'production_certificate', reason: null });
    await moveTo('collected', 'collected', {}, c.actorId);
    return state;
  }

  const cancelledAt = now();
  await db.enterUnclaimedLedger({ sealId: input.sealId, caseId: input.caseId, districtCode: input.districtCode, readyAt, dueAt: unclaimedDueAt, at: cancelledAt });
  await hsm.destroySealKey({ sealId: input.sealId });
  await db.markSealCancelled({ sealId: input.sealId, reason: 'unclaimed', at: cancelledAt });
  await documents.produceDocument({ sealId: input.sealId, kind: 'cancellation_certificate', reason: 'unclaimed' });
  state.reason = { zh: '超过三个月未领取，已登出', en: 'Not collected within 3 months; cancelled' };
  await moveTo('cancelled_unclaimed', 'cancelled_unclaimed', { unclaimedDueAt });
  // The cancellation is filed with the district (M9, M13) under the same 24-hour rule.
  const cancellationDue = new Date(Date.parse(cancelledAt) + input.filingDeadlineMs).toISOString();
  await db.openFilingDeadline({ caseId: input.caseId, kind: 'cancellation', startedAt: cancelledAt, dueAt: cancellationDue });
  const taskId = await openTask('cancellation_filing', cancellationDue);
  const { filingId } = await db.recordFiling({ caseId: input.caseId, kind: 'cancellation', round: 1, data: { reason: 'unclaimed' }, late: false, taskId, submittedBy: null, at: cancelledAt });
  const d = await awaitDecision();
  await db.decideFiling({ caseId: input.caseId, kind: 'cancellation', round: 1, accepted: d.decision === 'accept', reason: d.reason, at: now() });
  await db.projectCase({ caseId: input.caseId, status: state.status, reason: null, missingMaterials: [], event: { key: `${++step}:cancellation_filing_${d.decision}`, type: `cancellation_filing_${d.decision}`, data: { filingId }, actorId: d.officerId, at: now() } });
  return state;
}
