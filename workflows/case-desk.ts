// What every case workflow shares (applications and lifecycle requests alike): its projected state and
// timeline, officer tasks decided through Updates, and the police filing with its 24-hour deadline (M3).
import { defineSearchAttributeKey } from '@temporalio/common';
import { allHandlersFinished, ApplicationFailure, condition, patched, proxyActivities, setHandler, upsertSearchAttributes, uuid4 } from '@temporalio/workflow';
import type { ApplicationDbActivities } from '../activities';
import {
  caseStateQuery,
  CLOSED_CASE_STATUSES,
  decideTaskUpdate,
  moveDistrictUpdate,
  submitFilingUpdate,
  TASK_DECIDED,
  WRONG_STATE,
  type CaseState,
  type CaseStatus,
  type DecisionAnswer,
  type DecisionInput,
  type FilingInput,
  type TaskKind,
} from './application-messages';
import { ACTIVITY_POLICIES as P } from './activity-policies';

export const CaseStatusKey = defineSearchAttributeKey('CaseStatus', 'KEYWORD');
export const DistrictCodeKey = defineSearchAttributeKey('DistrictCode', 'KEYWORD');
export const MakerIdKey = defineSearchAttributeKey('MakerId', 'KEYWORD');

/**
 * The case's district and maker as search attributes, set as the workflow starts so the Temporal UI and
 * `temporal workflow list --query "DistrictCode='110105'"` find it from its first moment. Behind a patch:
 * histories from before carry no such command and replay unchanged.
 */
export function upsertCaseScope(districtCode: string, makerId?: string | null) {
  if (!patched('search-attributes-district-maker')) return;
  upsertSearchAttributes([
    { key: DistrictCodeKey, value: districtCode },
    ...(makerId ? [{ key: MakerIdKey, value: makerId }] : []),
  ]);
}

const db = proxyActivities<ApplicationDbActivities>(P.dbStatement);

/** The patch under which case workflows write their messages (workflows/message-delivery.ts delivers them). */
export const NOTIFY_PATCH = 'notify-case-messages';
/** The maker is told this long before a filing is due (issue 14). */
export const FILING_DUE_SOON_MS = 2 * 3600_000;

export const now = () => new Date(Date.now()).toISOString();

export function wrongState(state: CaseState, action: { zh: string; en: string }) {
  return ApplicationFailure.create({
    type: WRONG_STATE,
    nonRetryable: true,
    message: `Cannot ${action.en} while the case is ${state.status}`,
    details: [{ zh: `案件当前状态为 ${state.status}，不能${action.zh}`, en: `Cannot ${action.en} while the case is ${state.status}`, status: state.status }],
  });
}

/** A decision on a task that already took one: refused, naming the one that was taken (409). */
function alreadyDecided(first: DecisionInput) {
  const zh = first.decision === 'accept' ? '通过' : '退回';
  return ApplicationFailure.create({
    type: TASK_DECIDED,
    nonRetryable: true,
    message: `This task has already been decided (${first.decision}); this decision was not applied`,
    details: [{ zh: `该任务已处理（${zh}），本次处理未生效`, en: `This task has already been decided (${first.decision}); this decision was not applied`, decision: first.decision }],
  });
}

export type FilingKind = 'production' | 'cancellation' | 'suspend' | 'resume' | 'stop' | 'replace' | 'compromise';


export function createCaseDesk(caseId: string, initialDistrict: string, initial: CaseStatus, makerId?: string) {
  upsertCaseScope(initialDistrict, makerId);
  let districtCode = initialDistrict; // P3: a supervisor may move the case (moveDistrictUpdate)
  let moving = false; // one move at a time, and no task opened while one is under way
  const state: CaseState = {
    status: initial,
    reason: null,
    missingMaterials: [],
    openTask: null,
    filingDueAt: null,
    filingOverdue: false,
    unclaimedDueAt: null,
  };
  // Issue 16.6: decisions answer with the state they led to. Cases started before answer at once, as they did
  // (an Update's completion is in the history: moving it would not replay).
  const answersAtRest = patched('decision-answers-at-rest');
  let step = 0; // orders the timeline's event keys
  let decision: DecisionInput | null = null;
  // Exactly once: a task takes one decision (validator), answered once the workflow has acted on it.
  const taken = new Map<string, DecisionInput>();
  const answers = new Map<string, DecisionAnswer>();
  // Actions the workflow has taken up, answered at its next rest (waiting for people or time) with the state they led to.
  const unanswered: Array<() => void> = [];
  const settle = () => {
    for (const answer of unanswered.splice(0)) answer();
  };
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

  /**
   * The task takes decisions before its row exists: an officer who decides the instant it shows in the
   * queue is never refused (a decision that arrives first waits in `decision` for awaitDecision).
   */
  async function openTask(kind: TaskKind, dueAt: string | null) {
    // A task opened during a move goes to the district the case is moving to. (No await otherwise: an extra
    // tick could reorder the commands of histories recorded before moves existed.)
    if (moving) await condition(() => !moving);
    const id = uuid4();
    decision = null;
    state.openTask = { id, kind }; // decidable from the moment the row is visible, during the activity
    const stored = await db.openTask({ taskId: id, caseId, kind, districtCode, dueAt });
    // The row's id, from the activity's answer in the history: on replay it is the id officers see, even if the
    // random generator (uuid4) went another way since. A history recorded before the activity answered with the
    // id keeps the generated one (see workflows/tracing-interceptors.ts for why it could differ).
    if (stored?.taskId && stored.taskId !== id) state.openTask = { id: stored.taskId, kind };
    return state.openTask.id;
  }

  /** Waits for people or time; first answers the actions taken up since the last wait with the state they led to. */
  async function waitFor(fn: () => boolean, timeoutMs?: number): Promise<boolean> {
    settle();
    if (timeoutMs === undefined) {
      await condition(fn);
      return true;
    }
    return condition(fn, timeoutMs);
  }

  /** Before the workflow returns: answers what is pending and lets every Update handler finish. */
  async function finish() {
    settle();
    await condition(allHandlersFinished);
  }

  /** An action taken up: answered at the next rest (an Update handler waits on it). */
  function answerAtRest(answer: () => void) {
    unanswered.push(answer);
  }

  async function awaitDecision(): Promise<DecisionInput> {
    await waitFor(() => decision !== null);
    const d = decision!;
    decision = null;
    // Closing the task and its audit entry (M6) are one transaction: the trail records the decision that took effect.
    await db.closeTask({ taskId: d.taskId, caseId, decision: d.decision, reason: d.reason, decidedBy: d.officerId, at: now(), audit: d.audit ?? null });
    state.openTask = null;
    answerAtRest(() => answers.set(d.taskId, { taskId: d.taskId, decision: d.decision, reason: d.reason, decidedBy: d.officerId, status: state.status, resetTokenSha256: d.resetTokenSha256 ?? null }));
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
    const notify = patched(NOTIFY_PATCH); // runs started before messages were delivered keep their timers
    const warnInMs = Date.parse(dueAt) - FILING_DUE_SOON_MS - Date.now();
    if (notify && warnInMs > 0 && !(await waitFor(() => filing !== null, warnInMs))) {
      await db.postCaseMessage({ caseId, kind: 'filing_due_soon', at: now(), dueAt, filingKind: kind });
    }
    for (;;) {
      const filedInTime = await waitFor(() => filing !== null, Math.max(0, Date.parse(dueAt) - Date.now()));
      if (!filedInTime && !state.filingOverdue) {
        state.filingOverdue = true;
        await db.markFilingOverdue({ caseId, kind, at: now() });
        await record('filing_overdue', { kind, dueAt });
        if (notify) await db.postCaseMessage({ caseId, kind: 'filing_overdue', at: now(), dueAt, filingKind: kind });
        await waitFor(() => filing !== null);
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
      return { filingId, late, taskId, status: state.status };
    },
    {
      validator: (_f: FilingInput) => {
        if (!filingKind || !['awaiting_filing', 'filing_returned'].includes(state.status)) throw wrongState(state, { zh: '备案', en: 'file with the police' });
      },
    },
  );
  setHandler(
    decideTaskUpdate,
    async (d) => {
      decision = d;
      taken.set(d.taskId, d);
      if (!answersAtRest) return { taskId: d.taskId, decision: d.decision, reason: d.reason, decidedBy: d.officerId, status: state.status, resetTokenSha256: d.resetTokenSha256 ?? null };
      await condition(() => answers.has(d.taskId));
      return answers.get(d.taskId)!;
    },
    {
      validator: (d) => {
        const first = taken.get(d.taskId);
        if (first) throw alreadyDecided(first);
        if (!state.openTask || state.openTask.id !== d.taskId) throw wrongState(state, { zh: '处理该任务', en: 'decide this task' });
        if (d.decision === 'return' && !d.reason?.trim()) {
          throw ApplicationFailure.create({ type: 'InvalidDecision', nonRetryable: true, message: 'A return needs a reason', details: [{ zh: '退回必须说明理由', en: 'A return needs a reason', field: 'reason' }] });
        }
      },
    },
  );

  // P3: the case, its open task and its search attribute move to the district; the timeline and the trail say so.
  setHandler(
    moveDistrictUpdate,
    async (m) => {
      moving = true; // before any await: a second move in this activation is refused by the validator
      try {
        const { fromDistrict } = await db.moveCaseDistrict({ caseId, fromDistrict: districtCode, toDistrict: m.toDistrict, reason: m.reason, supervisorId: m.supervisorId, audit: m.audit, at: now() });
        districtCode = m.toDistrict;
        upsertSearchAttributes([{ key: DistrictCodeKey, value: districtCode }]);
        await record('district_moved', { from: fromDistrict, to: m.toDistrict, reason: m.reason }, m.supervisorId);
        return { fromDistrict, toDistrict: m.toDistrict, status: state.status };
      } finally {
        moving = false;
      }
    },
    {
      validator: (m) => {
        if (CLOSED_CASE_STATUSES.includes(state.status) || moving) throw wrongState(state, { zh: '移交辖区', en: 'move to another district' });
        if (m.toDistrict === districtCode) {
          throw ApplicationFailure.create({ type: 'SameDistrict', nonRetryable: true, message: 'The case is already in this district', details: [{ zh: '案件已在该辖区', en: 'The case is already in this district', field: 'district_code' }] });
        }
      },
    },
  );

  return { state, record, moveTo, openTask, awaitDecision, fileWithPolice, waitFor, finish, answerAtRest, answersAtRest };
}
