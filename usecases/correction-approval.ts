// M5 (issue 6): a production-data correction awaiting approval is a task in the district's officer queue,
// decided through the Update of its own workflow (workflows/correction-approval.ts). Here: starting that
// workflow, deciding through it (from the task page, /api/tasks or the correction's own decision route),
// and what the task page compares.
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { durationToMs, parseIsoDuration } from '../domain/calendar';
import { conflict, DomainError } from '../domain/errors';
import { auditRead } from '../infra/audit/log';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import type { Actor } from '../domain/actor';
import { forbidden } from '../domain/refusals';
import { correctionApprovalWorkflow } from '../workflows/correction-approval';
import { CORRECTION_DECIDED, CORRECTION_WRONG_DISTRICT, correctionDecisionUpdateId, correctionTaskQuery, correctionWorkflowId, decideCorrectionUpdate } from '../workflows/correction-messages';
import { currentAuditContext, recordEffectElsewhere } from '../infra/audit/context';
import { productionRecordVersions, takesEffect } from './production-record-versions';

export interface PendingCorrection {
  recordId: string;
  caseId: string;
  version: number;
  districtCode: string;
  createdAt: Date | string;
}

/**
 * Starts the approval (idempotent: the workflow id is the correction's). Due time: the filing deadline
 * (durations.filingDeadline, 24 hours) after submission, as the review of a filing — a correction is a
 * change of what was filed. It orders and marks the queue; nothing happens by itself when it passes.
 */
export async function startCorrectionApproval(deps: { temporal: Client; config: Config }, p: PendingCorrection): Promise<void> {
  const dueAt = new Date(new Date(p.createdAt).getTime() + durationToMs(parseIsoDuration(deps.config.durations.filingDeadline))).toISOString();
  try {
    await deps.temporal.workflow.start(correctionApprovalWorkflow, {
      taskQueue: deps.config.temporal.taskQueues.main,
      workflowId: correctionWorkflowId(p.recordId, p.version),
      args: [{ recordId: p.recordId, caseId: p.caseId, version: p.version, districtCode: p.districtCode, dueAt }],
    });
  } catch (e) {
    if ((e as Error).name !== 'WorkflowExecutionAlreadyStartedError') throw e;
  }
}

const alreadyDecided = () => conflict('ALREADY_DECIDED', '该更正已审批', 'This correction has already been decided');

/**
 * The officer's decision, through the workflow's Update (its validator refuses another district, a second
 * decision, a return without reason); answers once the decision is appended, so a read right after sees it.
 */
export async function decideCorrectionThroughWorkflow(
  deps: { temporal: Client; db: Db },
  actor: Actor,
  workflowId: string,
  d: { taskId?: string; decision: 'accept' | 'return'; reason: string | null },
): Promise<void> {
  if (actor.role !== 'officer') throw forbidden('Only a police officer decides tasks', '只有民警可以处理任务');
  const handle = deps.temporal.workflow.getHandle(workflowId);
  recordEffectElsewhere(); // the workflow's activity writes the decision's audit entry with the task's closing
  const ctx = currentAuditContext();
  const audit = { username: actor.username, role: actor.role, districtCode: actor.districtCode, clientAddress: ctx?.clientAddress ?? null, requestId: ctx?.requestId ?? null };
  /** A repeat of the decision already recorded (same officer, decision, reason) is answered, not refused. */
  const repeated = async () => {
    const t = await deps.db('tasks').where({ workflow_id: workflowId }).first('status', 'decision', 'reason', 'decided_by');
    return t?.status === 'done' && t.decision === d.decision && t.decided_by === actor.userId && (t.reason ?? null) === d.reason;
  };
  try {
    const taskId = d.taskId ?? (await handle.query(correctionTaskQuery)).taskId;
    await handle.executeUpdate(decideCorrectionUpdate, { args: [{ taskId, decision: d.decision, reason: d.reason, officerId: actor.userId, officerDistrictCode: actor.districtCode, audit }], updateId: correctionDecisionUpdateId(taskId, d.decision) });
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
      if (e.cause.type === CORRECTION_DECIDED) {
        if (await repeated()) return;
        throw alreadyDecided();
      }
      if (e.cause.type === CORRECTION_WRONG_DISTRICT) throw forbidden("Only an officer of the case's district may decide this correction", '只有本案件所属辖区的民警可以审批更正');
      const x = (e.cause.details?.[0] ?? {}) as { zh?: string; en?: string; field?: string };
      throw new DomainError({ code: e.cause.type ?? 'REFUSED', messageZh: x.zh ?? e.cause.message, messageEn: x.en ?? e.cause.message, field: x.field });
    }
    if ((e as Error).name === 'WorkflowNotFoundError') {
      if (await repeated()) return;
      throw alreadyDecided(); // closed: decided before
    }
    throw e;
  }
  await handle.result();
  // One Update answers every request of this decision: one from another officer, or with another reason, was not applied.
  if (!(await repeated())) throw alreadyDecided();
}

const show = (v: unknown) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

/** The task page's side-by-side: the version in effect before the correction, and the correction. */
export async function correctionComparison(db: Db, actor: Actor, task: { case_id: string; record_id: string }) {
  const record = await db('production_records').where({ id: task.record_id }).first('version');
  const versions = await productionRecordVersions(db, task.case_id);
  const next = versions.find((v) => v.version === record.version)!;
  const prior = versions.filter((v) => v.version < next.version && takesEffect({ needs_approval: v.needs_approval, decision: v.approval?.decision ?? null })).at(-1)!;
  await auditRead(db, actor, { action: 'production_record.read', targetType: 'case', targetId: task.case_id, caseId: task.case_id, details: { versions: [prior.version, next.version] } }); // M6 P1
  const keys = [...new Set([...Object.keys(prior.data), ...Object.keys(next.data)])];
  return {
    oldVersion: prior.version,
    newVersion: next.version,
    reason: next.reason,
    author: next.author.display_name,
    submittedAt: next.created_at,
    rows: keys.map((key) => ({ key, old: show(prior.data[key]), new: show(next.data[key]), changed: JSON.stringify(prior.data[key]) !== JSON.stringify(next.data[key]) })),
    imageChanged: prior.on_site_image_id !== next.on_site_image_id,
  };
}
