// 三(四) 使用流程: the read model of use requests (the holder's approval queue) and their audit entries, written
// by the use-approval workflow. Each write is idempotent: keyed by the request and its expected state.
import type { Db } from '../infra/db';
import { appendAudit, type AuditActor } from '../infra/audit/log';
import type { UseApprovalInput } from '../workflows/use-approval-messages';

export function createUseApprovalActivities(db: Db) {
  return {
    async openUseRequest(r: UseApprovalInput): Promise<void> {
      await db.transaction(async (trx) => {
        const inserted = await trx('seal_use_requests')
          .insert({
            id: r.requestId,
            seal_id: r.sealId,
            holder_id: r.holderId,
            purpose: r.purpose,
            document_type: r.documentType,
            document_name: r.documentName,
            document_sha256: r.documentSha256,
            requested_by: r.requestedBy.userId,
            approver_ids: JSON.stringify(r.approverIds),
            status: 'pending',
            due_at: new Date(r.dueAt),
          })
          .onConflict('id')
          .ignore()
          .returning('id');
        if (inserted.length === 0) return;
        await appendAudit(trx, { action: 'use_request.open', outcome: 'ok', actor: r.requestedBy, targetType: 'seal', targetId: r.sealId, clientAddress: r.clientAddress, details: { use_request_id: r.requestId, document_sha256: r.documentSha256, document_type: r.documentType } });
      });
    },

    /** The approver's decision and its audit entry in one transaction (M6): the trail holds the decision that took effect. */
    async decideUseRequest(d: { requestId: string; sealId: string; decision: 'approve' | 'reject'; reason: string | null; approver: AuditActor; clientAddress: string | null; httpRequestId: string | null; at: string }): Promise<void> {
      await db.transaction(async (trx) => {
        const n = await trx('seal_use_requests')
          .where({ id: d.requestId, status: 'pending' })
          .update({ status: d.decision === 'approve' ? 'approved' : 'rejected', decided_by: d.approver.userId, decided_at: new Date(d.at), reason: d.reason });
        if (n === 0) return;
        await appendAudit(trx, { action: 'use_request.decide', outcome: 'ok', actor: d.approver, targetType: 'seal', targetId: d.sealId, clientAddress: d.clientAddress, requestId: d.httpRequestId, details: { use_request_id: d.requestId, decision: d.decision }, at: new Date(d.at) });
      });
    },

    async lapseUseRequest(l: { requestId: string; sealId: string; at: string }): Promise<void> {
      await db.transaction(async (trx) => {
        const n = await trx('seal_use_requests').where({ id: l.requestId }).whereIn('status', ['pending', 'approved']).update({ status: 'lapsed', lapsed_at: new Date(l.at) });
        if (n === 0) return;
        await appendAudit(trx, { action: 'use_request.lapse', outcome: 'ok', actor: null, targetType: 'seal', targetId: l.sealId, details: { use_request_id: l.requestId }, at: new Date(l.at) });
      });
    },

    async markUseRequestUsed(u: { requestId: string; registerId: string; at: string }): Promise<void> {
      await db('seal_use_requests').where({ id: u.requestId, status: 'approved' }).update({ status: 'used', register_id: u.registerId, used_at: new Date(u.at) });
    },
  };
}

export type UseApprovalActivities = ReturnType<typeof createUseApprovalActivities>;
