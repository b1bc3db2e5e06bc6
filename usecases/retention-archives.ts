// Use-cases of seal archive retention (M7; P3 scope): a seal's archive, and the supervisors' disposal tasks,
// decided through the archive's retention workflow.
import type { Actor } from '../domain/actor';
import { conflict, fieldRef, invalidField, requiredField, ValidationCollector } from '../domain/errors';
import { forbidden, notFound } from '../domain/refusals';
import { archiveWorkflowId } from '../workflows/retention-archive';
import { archiveRetentionQuery, decideDisposalUpdate } from '../workflows/retention-messages';
import type { Deps } from './deps';
import { F, iso, parseReason, update, UUID } from './retention-common';

export { archiveWorkflowId };

async function loadSealScope(deps: Pick<Deps, 'db'>, sealId: string) {
  if (!UUID.test(sealId)) throw notFound('Seal', '印章');
  const seal = await deps.db('seals as s').join('cases as c', 'c.id', 's.case_id').join('holders as h', 'h.id', 's.holder_id').where('s.id', sealId).first('s.id', 's.kind', 's.number', 's.seal_code', 's.status', 'c.district_code', 'h.name as holder_name');
  if (!seal) throw notFound('Seal', '印章');
  return seal;
}

/** M7: a seal's archive: kept until when, its disposal tasks and, once disposed of, its tombstones. */
export async function getArchive(deps: Pick<Deps, 'db'>, actor: Actor, sealId: string) {
  const seal = await loadSealScope(deps, sealId);
  if (!(actor.role === 'supervisor' || (actor.role === 'officer' && actor.districtCode === seal.district_code))) {
    throw forbidden('Seal archives are for supervisors and the officers of the seal\'s district', '印章档案仅供督导人员和所在辖区民警查看');
  }
  const ar = await deps.db('archive_retention').where({ seal_id: sealId }).first();
  const tasks = await deps.db('archive_disposal_tasks').where({ seal_id: sealId }).orderBy('opened_at').select('id', 'status', 'retain_until', 'opened_at', 'decision', 'reason', 'decided_by', 'decided_at');
  const tombstones = await deps.db('archive_tombstones').where({ seal_id: sealId }).orderBy('disposed_at').select('task_id', 'seal_code', 'seal_kind', 'end_kind', 'ended_at', 'retain_until', 'disposed_at', 'approved_by', 'approval_reason', 'erased');
  return {
    seal_id: seal.id,
    workflow_id: archiveWorkflowId(sealId),
    seal: { kind: seal.kind, number: seal.number, seal_code: seal.seal_code, status: seal.status, holder_name: seal.holder_name, district_code: seal.district_code },
    // live: the seal has not ended, so its archive is still growing and its retention has not begun.
    status: (ar?.status as string | undefined) ?? 'live',
    end_kind: ar?.end_kind ?? null,
    ended_at: iso(ar?.ended_at ?? null),
    policy: ar?.policy ?? null,
    retain_until: iso(ar?.retain_until ?? null),
    disposed_at: iso(ar?.disposed_at ?? null),
    disposal_tasks: tasks,
    tombstones,
  };
}

export async function listArchiveDisposalTasks(deps: Pick<Deps, 'db'>, actor: Actor, filter: { status?: string }) {
  if (actor.role !== 'supervisor') throw forbidden('Archive disposal is decided by supervisors', '档案销毁由督导人员审批');
  const status = filter.status ?? 'open';
  if (!['open', 'done'].includes(status)) throw invalidField(fieldRef('status', '任务状态', 'Task status'), '应为 open 或 done', 'must be open or done');
  return deps.db('archive_disposal_tasks as t')
    .join('seals as s', 's.id', 't.seal_id')
    .join('holders as h', 'h.id', 's.holder_id')
    .join('archive_retention as ar', 'ar.seal_id', 't.seal_id')
    .where('t.status', status)
    .orderBy('t.opened_at')
    .limit(500)
    .select('t.id', 't.seal_id', 't.status', 't.district_code', 't.retain_until', 't.opened_at', 't.decision', 't.reason', 't.decided_at', 's.kind as seal_kind', 's.number as seal_number', 's.seal_code', 'h.name as holder_name', 'ar.end_kind', 'ar.ended_at');
}

/** M7: a supervisor approves the disposal (personal data erased, tombstone kept) or keeps the archive (with a reason). */
export async function decideArchiveDisposal(deps: Deps, actor: Actor, taskId: string, body: unknown) {
  if (actor.role !== 'supervisor') throw forbidden('Archive disposal is decided by supervisors', '档案销毁由督导人员审批');
  if (!UUID.test(taskId)) throw notFound('Disposal task', '销毁任务');
  const task = await deps.db('archive_disposal_tasks').where({ id: taskId }).first();
  if (!task) throw notFound('Disposal task', '销毁任务');
  const b = (body ?? {}) as { decision?: unknown; reason?: unknown };
  const v = new ValidationCollector();
  if (b.decision !== 'approve' && b.decision !== 'retain') v.add(invalidField(F.decision, '应为 approve（批准销毁）或 retain（继续保存）', 'must be approve or retain'));
  const reason = b.reason === undefined || b.reason === null || b.reason === '' ? null : v.check(() => parseReason(b.reason)) ?? null;
  if (b.decision === 'retain' && reason === null && !v.hasErrors) v.add(requiredField(fieldRef('reason', '继续保存的理由', 'Reason to keep the archive')));
  v.throwIfAny();
  if (task.status !== 'open') throw conflict('TASK_DECIDED', '该销毁任务已处理', 'This disposal task has already been decided', { decision: task.decision });
  await update(() =>
    deps.temporal.workflow.getHandle(archiveWorkflowId(task.seal_id)).executeUpdate(decideDisposalUpdate, { args: [{ taskId, decision: b.decision as 'approve' | 'retain', reason, supervisorId: actor.userId }], updateId: `decideDisposal:${taskId}:${b.decision}` }),
  );
  // The workflow closes the task and, when approved, disposes of the archive: wait (briefly) to report it.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ar = await deps.db('archive_retention').where({ seal_id: task.seal_id }).first('status');
    const closed = await deps.db('archive_disposal_tasks').where({ id: taskId, status: 'done' }).first('id');
    if ((closed && (b.decision === 'retain' || ar.status === 'disposed')) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const state = await deps.temporal.workflow.getHandle(archiveWorkflowId(task.seal_id)).query(archiveRetentionQuery).catch(() => null);
  return { task_id: taskId, seal_id: task.seal_id, decision: b.decision, archive_status: state?.status ?? null, archive: await getArchive(deps, actor, task.seal_id) };
}
