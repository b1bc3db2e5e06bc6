// M5 (issue 6): the database side of a correction's approval (workflows/correction-approval.ts). Each
// activity is idempotent: a retry after a crash inserts nothing twice and closes nothing twice.
import type { Db } from '../infra/db';
import { appendAudit } from '../infra/audit/log';
import { auditedActor, type DecisionAudit } from './applications';

export function createCorrectionActivities(db: Db) {
  return {
    /** The task in the district's queue (once per correction); a correction already decided opens none. */
    async openCorrectionTask(t: { taskId: string; recordId: string; caseId: string; version: number; districtCode: string; dueAt: string | null; workflowId: string }): Promise<void> {
      await db.transaction(async (trx) => {
        if (await trx('production_record_decisions').where({ record_id: t.recordId }).first('record_id')) return;
        const opened = await trx('tasks')
          .insert({ id: t.taskId, case_id: t.caseId, kind: 'production_correction', district_code: t.districtCode, status: 'open', due_at: t.dueAt, workflow_id: t.workflowId, record_id: t.recordId })
          .onConflict()
          .ignore()
          .returning('id');
        if (opened.length === 0) return;
        const { author_id } = await trx('production_records').where({ id: t.recordId }).first('author_id'); // the timeline names the maker
        await trx('case_events')
          .insert({ case_id: t.caseId, event_key: `correction:${t.version}:submitted`, type: 'correction_submitted', data: JSON.stringify({ version: t.version }), actor_id: author_id, at: new Date() })
          .onConflict(['case_id', 'event_key'])
          .ignore();
      });
    },

    /** Appends the officer's decision (the record) and closes the task (the read model), in one transaction. */
    async decideCorrection(d: { taskId: string; recordId: string; caseId: string; version: number; decision: 'accept' | 'return'; reason: string | null; officerId: string; at: string; audit?: DecisionAudit | null }): Promise<void> {
      const decision = d.decision === 'accept' ? 'approved' : 'rejected';
      await db.transaction(async (trx) => {
        await trx('production_record_decisions').insert({ record_id: d.recordId, decision, reason: d.reason, decided_by: d.officerId, decided_at: d.at }).onConflict('record_id').ignore();
        const closed = await trx('tasks')
          .where({ id: d.taskId, status: 'open' })
          .update({ status: 'done', decision: d.decision, reason: d.reason, decided_by: d.officerId, decided_at: d.at, assignee_id: d.officerId })
          .returning('id');
        // M6: the decision that took effect, once (a retry finds the task closed).
        if (closed.length > 0 && d.audit) {
          await appendAudit(trx, {
            action: 'task.decide',
            outcome: 'ok',
            actor: auditedActor(d.officerId, d.audit),
            targetType: 'task',
            targetId: d.taskId,
            caseId: d.caseId,
            clientAddress: d.audit.clientAddress,
            requestId: d.audit.requestId,
            details: { decision: d.decision, task_kind: 'production_correction', version: d.version },
            at: new Date(d.at),
          });
        }
        await trx('case_events')
          .insert({ case_id: d.caseId, event_key: `correction:${d.version}:decided`, type: `correction_${decision}`, data: JSON.stringify({ version: d.version, reason: d.reason }), actor_id: d.officerId, at: d.at })
          .onConflict(['case_id', 'event_key'])
          .ignore();
      });
    },
  };
}

export type CorrectionActivities = ReturnType<typeof createCorrectionActivities>;
