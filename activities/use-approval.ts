// 三(四) 使用流程: the read model of use requests (the holder's approval queue) and their audit entries, written
// by the use-approval workflow. Each write is idempotent: keyed by the request and its expected state.
// And, for the signature's workflow, the reservation of an approved request and its settlement: Updates of the
// request's workflow, idempotent by their update ids (the signature's register id).
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../infra/db';
import { appendAudit, type AuditActor } from '../infra/audit/log';
import { DomainError } from '../domain/errors';
import { USE_FIELDS, USE_REQUEST_STATUSES, type UseRequestStatusKey } from '../domain/use-approval';
import {
  consumeUseUpdate,
  settleUseUpdate,
  USE_ALREADY_USED,
  USE_IN_USE,
  USE_NOT_APPROVED,
  useApprovalWorkflowId,
  useConsumeUpdateId,
  useSettleUpdateId,
  type UseApprovalInput,
  type UseSettleInput,
} from '../workflows/use-approval-messages';

export interface UseReservation {
  requestId: string;
  /** The signature's use register id. */
  registerId: string;
}

const useRefusal = (code: string, zh: string, en: string) => new DomainError({ code, field: USE_FIELDS.useRequestId, httpStatus: 409, messageZh: `用印申请：${zh}`, messageEn: `Use request: ${en}` });
const closed = (e: unknown) => (e as Error).name === 'WorkflowNotFoundError' || /already completed/i.test((e as Error).message);

/**
 * Reserves the approved request for this signature (the request's workflow refuses a second one while it is
 * held or once it is used): answers the approver the register names. A refusal is a DomainError naming
 * `use_request_id` (not retried).
 */
export async function reserveUseApproval(client: Client, db: Db, r: UseReservation): Promise<{ approverId: string }> {
  try {
    return await client.workflow.getHandle(useApprovalWorkflowId(r.requestId)).executeUpdate(consumeUseUpdate, { args: [{ registerId: r.registerId }], updateId: useConsumeUpdateId(r.requestId, r.registerId) });
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
      const x = (e.cause.details?.[0] ?? {}) as { zh?: string; en?: string };
      const zh = x.zh ?? e.cause.message;
      const en = x.en ?? e.cause.message;
      if (e.cause.type === USE_ALREADY_USED) throw useRefusal('USE_REQUEST_USED', zh, en);
      if (e.cause.type === USE_IN_USE) throw useRefusal('USE_REQUEST_IN_USE', zh, en);
      if (e.cause.type === USE_NOT_APPROVED) throw useRefusal('USE_REQUEST_NOT_APPROVED', zh, en);
    }
    if (!closed(e)) throw e;
    // The request's workflow has ended: used, lapsed or rejected (its row says which).
    const row = await db('seal_use_requests').where({ id: r.requestId }).first('status');
    const status = (row?.status ?? 'lapsed') as UseRequestStatusKey;
    if (status === 'used') throw useRefusal('USE_REQUEST_USED', '已使用过一次，不能再次用印', 'has already been used once; it cannot sign again');
    const s = USE_REQUEST_STATUSES[status] ?? USE_REQUEST_STATUSES.lapsed;
    throw useRefusal('USE_REQUEST_NOT_APPROVED', `未获批准（当前：${s.zh}）`, `is not approved (it is ${s.en.toLowerCase()})`);
  }
}

/** The reserving signature's outcome: signed spends the request, not signed hands it back (answers once done). */
export async function settleUseApproval(client: Client, s: UseReservation & Pick<UseSettleInput, 'signed'>): Promise<void> {
  try {
    await client.workflow.getHandle(useApprovalWorkflowId(s.requestId)).executeUpdate(settleUseUpdate, { args: [{ registerId: s.registerId, signed: s.signed }], updateId: useSettleUpdateId(s.requestId, s.registerId) });
  } catch (e) {
    if (!closed(e)) throw e; // a request that ended (a run from before the reservation, spent at once) has nothing to settle
  }
}

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

    /** The signature's workflow (main worker) reserves the request through the worker's client. */
    async reserveUseApproval(r: UseReservation): Promise<{ approverId: string }> {
      return reserveUseApproval(Context.current().client, db, r);
    },

    async settleUseApproval(s: UseReservation & Pick<UseSettleInput, 'signed'>): Promise<void> {
      await settleUseApproval(Context.current().client, s);
    },

    async markUseRequestUsed(u: { requestId: string; registerId: string; at: string }): Promise<void> {
      await db('seal_use_requests').where({ id: u.requestId, status: 'approved' }).update({ status: 'used', register_id: u.registerId, used_at: new Date(u.at) });
    },
  };
}

export type UseApprovalActivities = ReturnType<typeof createUseApprovalActivities>;
