// Officers' tasks (A4, M3, M9, C3, P3): the queue of the officer's district, and a decision, taken exactly once
// through the case workflow's Update.
import { WorkflowNotFoundError, WorkflowUpdateStage } from '@temporalio/client';
import { parseName } from '../domain/application-intake';
import { conflict, DomainError, fieldRef, invalidField, requiredField } from '../domain/errors';
import { decideTaskUpdate, decisionUpdateId, TASK_DECIDED, type Decision, type DecisionAnswer, type DecisionAudit, type DecisionInput } from '../workflows/application-messages';
import { currentAuditContext, recordEffectElsewhere } from '../infra/audit/context';
import type { Actor } from '../domain/actor';
import { forbidden, notFound } from '../domain/refusals';
import { decideCorrectionThroughWorkflow } from './correction-approval';
import type { Deps } from './deps';
import { ACTION_ANSWER_WITHIN_MS, caseWorkflowId, loadCase, update, UUID, within } from './applications';

// ---------- officers' tasks (A4, M3, M9, P3) ----------

export async function listTasks(deps: Pick<Deps, 'db'>, actor: Actor, filter: { status?: string; kind?: string }) {
  if (actor.role !== 'officer' && actor.role !== 'supervisor') throw forbidden('Tasks are for police officers and supervisors', '任务仅供民警和督导人员查看');
  // A lifecycle or reset case is about an existing seal (subject_seal_id); an application about its own.
  const q = deps.db('tasks as t')
    .join('cases as c', 'c.id', 't.case_id')
    .join('holders as h', 'h.id', 'c.holder_id')
    .join('seals as s', function () {
      this.on('s.case_id', 'c.id').orOn('s.id', 'c.subject_seal_id');
    });
  if (actor.role === 'officer') q.where('t.district_code', actor.districtCode);
  q.where('t.status', filter.status ?? 'open');
  if (filter.kind) q.where('t.kind', filter.kind);
  return q.orderByRaw('t.due_at asc nulls last, t.created_at asc').limit(500).select('t.id', 't.kind', 't.status', 't.due_at', 't.created_at', 't.district_code', 't.case_id', 'c.kind as case_kind', 'h.name as holder_name', 's.kind as seal_kind', 's.number as seal_number', 's.seal_code', deps.db.raw("coalesce(c.district_mismatches, '[]'::jsonb) as district_mismatches"));
}

const decisionAudit = (actor: Actor): DecisionAudit => {
  const ctx = currentAuditContext();
  return { username: actor.username, role: actor.role, districtCode: actor.districtCode, clientAddress: ctx?.clientAddress ?? null, requestId: ctx?.requestId ?? null };
};

/** A served workflow accepts an Update in a workflow task (milliseconds; seconds on a loaded machine). */
const MIN_ACCEPT_WITHIN_MS = 5_000;

const decisionNotTaken = () =>
  new DomainError({
    code: 'DECISION_NOT_TAKEN',
    httpStatus: 503,
    messageZh: '案件流程暂未接收此处理结果（工作进程不可用），请稍后以同一处理结果重试：若已生效，重试会得到结果，不会重复处理',
    messageEn: "The case's process has not taken this decision yet (no worker is available); send the same decision again shortly: if it took effect meanwhile, the retry is answered with its outcome, never applied twice",
  });

const taskDecided = (decision: string) =>
  conflict(TASK_DECIDED, `该任务已处理（${decision === 'accept' ? '通过' : '退回'}），本次处理未生效`, `This task has already been decided (${decision}); this decision was not applied`, { decision });

/**
 * An officer's decision (A4, M3, M9, C3, M5; P3), exactly once: the Update's id is the task and the decision,
 * so a retried request is answered with the outcome of the first (never applied twice), and the workflow
 * refuses any other decision on a task that took one (409). The answer is the case's status once the workflow
 * has acted on the decision (200), or 202 with the status link if it is still acting on it. The decision's
 * audit entry is written by the workflow with the task's closing: what took effect, once.
 */
export async function decideTask(deps: Deps, actor: Actor, taskId: string, body: unknown, answerWithinMs = ACTION_ANSWER_WITHIN_MS): Promise<DecisionResponse> {
  if (actor.role !== 'officer') throw forbidden('Only a police officer decides tasks', '只有民警可以处理任务');
  if (!UUID.test(taskId)) throw notFound('Task', '任务');
  const task = await deps.db('tasks').where({ id: taskId }).first();
  if (!task) throw notFound('Task', '任务');
  if (task.district_code !== actor.districtCode) throw forbidden('This task belongs to another district', '该任务属于其他辖区');
  const b = (body ?? {}) as { decision?: unknown; reason?: unknown };
  const decisionField = fieldRef('decision', '处理结果', 'Decision');
  if (b.decision !== 'accept' && b.decision !== 'return') throw invalidField(decisionField, '应为 accept（通过）或 return（退回）', 'must be accept or return');
  const decision: Decision = b.decision;
  const reason = b.reason === undefined || b.reason === null || b.reason === '' ? null : parseName(b.reason, fieldRef('reason', '理由', 'Reason'), 500);
  if (decision === 'return' && !reason) throw requiredField(fieldRef('reason', '退回理由', 'Reason for the return'));
  const statusUrl = `/api/applications/${task.case_id}/status`;
  const respond = (caseStatus: string | null, extra: Partial<DecisionResponse> = {}): DecisionResponse => ({ task_id: taskId, task_kind: task.kind as string, decision, reason, case_id: task.case_id, case_status: caseStatus, recorded: caseStatus !== null, status_url: statusUrl, ...extra });
  /** A task already closed answers a repeat of its decision with what was recorded, and refuses any other. */
  const answerFromRecord = async () => {
    const t = await deps.db('tasks').where({ id: taskId }).first('status', 'decision', 'reason', 'decided_by');
    if (t.status !== 'done') return null;
    if (t.decision !== decision || t.decided_by !== actor.userId || (t.reason ?? null) !== reason) throw taskDecided(t.decision);
    const c = await deps.db('cases').where({ id: task.case_id }).first('status');
    return respond(c.status, { repeated: true });
  };
  recordEffectElsewhere(); // a decision's entry is written where it takes effect; a repeat answered here took none
  const recorded = await answerFromRecord();
  if (recorded) return recorded;

  if (task.workflow_id) {
    // A task decided by its own workflow, not the case's (M5: a production-data correction).
    await decideCorrectionThroughWorkflow(deps, actor, task.workflow_id, { taskId, decision, reason });
    const c = await deps.db('cases').where({ id: task.case_id }).first('status');
    return respond(c.status);
  }
  const handle = deps.temporal.workflow.getHandle(caseWorkflowId(await loadCase(deps.db, task.case_id)));
  // C3: an approved reset's one-time links reach the keeper through the holder's messages (activities/seal-life.ts).
  const input: DecisionInput = { taskId, decision, reason, officerId: actor.userId, audit: decisionAudit(actor) };
  let answer: DecisionAnswer | null;
  try {
    // Taken by the workflow within the request's time (Prefer: wait), or not at all by this request: no worker
    // serves the case now. The workflow may still take it later (the server keeps it): the same decision sent
    // again is the same Update and learns its outcome.
    const acceptWithinMs = Math.max(answerWithinMs, MIN_ACCEPT_WITHIN_MS);
    const accepted = await within(deps.temporal, () => update(() => handle.startUpdate(decideTaskUpdate, { args: [input], updateId: decisionUpdateId(taskId, decision), waitForStage: WorkflowUpdateStage.ACCEPTED })), acceptWithinMs);
    if (accepted === null) throw decisionNotTaken();
    answer = await within(deps.temporal, () => update(() => accepted.result()), answerWithinMs); // a refusal may come with the result
  } catch (e) {
    // Refused, or the case's workflow has ended since: if this very decision was recorded, the record answers.
    const fromRecord = e instanceof WorkflowNotFoundError || (e instanceof DomainError && e.httpStatus === 409) ? await answerFromRecord() : null;
    if (fromRecord) return fromRecord;
    throw e;
  }
  if (answer === null) return respond(null); // 202: accepted, the workflow acts on it; follow status_url
  // The same Update id answers every request of this decision: one sent by another officer, or with another reason, was not applied.
  if (answer.decidedBy !== actor.userId || answer.reason !== reason) throw taskDecided(answer.decision);
  return respond(answer.status);
}

export interface DecisionResponse {
  task_id: string;
  task_kind: string;
  decision: Decision;
  reason: string | null;
  case_id: string;
  /** The case's status once the workflow acted on the decision; null while it still acts on it (202). */
  case_status: string | null;
  recorded: boolean;
  status_url: string;
  /** The answer to a repeat of a decision already recorded (nothing was applied again). */
  repeated?: boolean;
}
