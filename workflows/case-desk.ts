// What every case workflow shares (applications and lifecycle requests alike): its projected state and
// timeline, officer tasks decided through Updates, and the police filing with its 24-hour deadline (M3).
import { defineSearchAttributeKey } from '@temporalio/common';
import { ApplicationFailure, condition, proxyActivities, setHandler, upsertSearchAttributes, uuid4 } from '@temporalio/workflow';
import type { ApplicationDbActivities } from '../activities';
import {
  caseStateQuery,
  decideTaskUpdate,
  submitFilingUpdate,
  WRONG_STATE,
  type CaseState,
  type CaseStatus,
  type DecisionInput,
  type FilingInput,
  type TaskKind,
} from './application-messages';

export const CaseStatusKey = defineSearchAttributeKey('CaseStatus', 'KEYWORD');

const db = proxyActivities<ApplicationDbActivities>({ startToCloseTimeout: '1 minute' });

export const now = () => new Date(Date.now()).toISOString();

export function wrongState(state: CaseState, action: { zh: string; en: string }) {
  return ApplicationFailure.create({
    type: WRONG_STATE,
    nonRetryable: true,
    message: `Cannot ${action.en} while the case is ${state.status}`,
    details: [{ zh: `案件当前状态为 ${state.status}，不能${action.zh}`, en: `Cannot ${action.en} while the case is ${state.status}`, status: state.status }],
  });
}

export type FilingKind = 'production' | 'cancellation' | 'suspend' | 'resume' | 'stop' | 'replace' | 'compromise';

export function createCaseDesk(caseId: string, districtCode: string, initial: CaseStatus) {
  const state: CaseState = {
    status: initial,
    reason: null,
    missingMaterials: [],
    openTask: null,
    filingDueAt: null,
    filingOverdue: false,
    unclaimedDueAt: null,
  };
  let step = 0; // orders the timeline's event keys
  let decision: DecisionInput | null = null;
  let filing: FilingInput | null = null;
  let filingRound = 0;
  let filingKind: FilingKind | null = null;
  let filingDeadlineMs = 0; // the review of a filing is due within the same deadline (the officers' queue shows it)

  /** Appends a timeline event; with a status, the case moves to it. */
  async function record(event: string, data: Record<string, unknown> = {}, actorId: string | null = null, status?: CaseStatus) {
    if (status) {
      state.status = status;
      upsertSearchAttributes([{ key: CaseStatusKey, value: status }]);
    }
    await db.projectCase({
      caseId,
      status: state.status,
      reason: state.reason,
      missingMaterials: state.missingMaterials,
      event: { key: `${++step}:${event}`, type: event, data, actorId, at: now() },
    });
  }
  const moveTo = (status: CaseStatus, event: string, data: Record<string, unknown> = {}, actorId: string | null = null) => record(event, data, actorId, status);

  async function openTask(kind: TaskKind, dueAt: string | null) {
    const id = uuid4();
    await db.openTask({ taskId: id, caseId, kind, districtCode, dueAt });
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

  /**
   * M3: the maker files within the deadline; if not, the filing is overdue from that moment (supervisors see
   * it) and the case keeps waiting; an officer of the district accepts or returns it (then it is filed again).
   */
  async function fileWithPolice(kind: FilingKind, startedAt: string, deadlineMs: number): Promise<void> {
    const dueAt = new Date(Date.parse(startedAt) + deadlineMs).toISOString();
    state.filingDueAt = dueAt;
    state.filingOverdue = false;
    filingKind = kind;
    filingDeadlineMs = deadlineMs;
    filing = null;
    await db.openFilingDeadline({ caseId, kind, startedAt, dueAt });
    await moveTo('awaiting_filing', 'filing_deadline_started', { kind, dueAt });
    for (;;) {
      const filedInTime = await condition(() => filing !== null, Math.max(0, Date.parse(dueAt) - Date.now()));
      if (!filedInTime && !state.filingOverdue) {
        state.filingOverdue = true;
        await db.markFilingOverdue({ caseId, kind, at: now() });
        await record('filing_overdue', { kind, dueAt });
        await condition(() => filing !== null);
      }
      const d = await awaitDecision();
      await db.decideFiling({ caseId, kind, round: filingRound, accepted: d.decision === 'accept', reason: d.reason, at: now() });
      if (d.decision === 'accept') {
        state.reason = null;
        await record('filing_accepted', { kind }, d.officerId);
        filingKind = null;
        return;
      }
      filing = null;
      state.reason = { zh: `备案被退回：${d.reason}`, en: `Filing returned: ${d.reason}` };
      await moveTo('filing_returned', 'filing_returned', { kind, reason: d.reason }, d.officerId);
    }
  }

  setHandler(caseStateQuery, () => state);
  setHandler(
    submitFilingUpdate,
    async (f) => {
      const round = ++filingRound;
      const late = Date.now() > Date.parse(state.filingDueAt!);
      state.status = 'filing_under_review';
      const taskId = await openTask('filing_review', new Date(Date.now() + filingDeadlineMs).toISOString());
      const { filingId } = await db.recordFiling({ caseId, kind: filingKind!, round, data: f.data, late, taskId, submittedBy: f.actorId, at: now() });
      await moveTo('filing_under_review', 'filing_submitted', { kind: filingKind, round, late }, f.actorId);
      filing = f; // only now: the task exists, so the filing loop can wait for its decision
      return { filingId, late, taskId };
    },
    {
      validator: (_f: FilingInput) => {
        if (!filingKind || !['awaiting_filing', 'filing_returned'].includes(state.status)) throw wrongState(state, { zh: '备案', en: 'file with the police' });
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

  return { state, record, moveTo, openTask, awaitDecision, fileWithPolice };
}
