// Messages of the use-approval workflow (三(四) 使用流程), shared by the workflow and the use-cases (definitions only).
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { AuditActor } from '../infra/audit/log';

export type UseRequestStatus = 'pending' | 'approved' | 'rejected' | 'lapsed' | 'used';

export interface UseApprovalInput {
  requestId: string;
  sealId: string;
  holderId: string;
  /** The holder's accounts named as approvers of the seal when the request was made: only they decide. */
  approverIds: string[];
  requestedBy: AuditActor;
  /** Undecided, or approved and not used, by then: the request lapses (durations.useApprovalDeadline). */
  dueAt: string;
  purpose: string;
  documentType: string;
  documentName: string;
  documentSha256: string;
  clientAddress: string | null;
}

export interface UseDecisionInput {
  decision: 'approve' | 'reject';
  reason: string | null;
  approver: AuditActor;
  clientAddress: string | null;
  requestId: string | null;
}

export interface UseConsumeInput {
  /** The signature's use register id: the register names the request, the request the signature. */
  registerId: string;
}

/** The outcome of the signature that reserved the request: signed spends it, not signed makes it usable again. */
export interface UseSettleInput {
  registerId: string;
  signed: boolean;
}

export const useApprovalWorkflowId = (requestId: string) => `use-approval:${requestId}`;
/** One Update per decision: a retried request is answered with the first one's outcome. */
export const useDecisionUpdateId = (requestId: string, approverId: string, decision: string) => `decideUse:${requestId}:${approverId}:${decision}`;

/** Answers once the request's row is written (the queue shows it): the API's 201 is then true at once. */
export const useRequestOpenedUpdate = defineUpdate<{ status: UseRequestStatus }>('useRequestOpened');
export const decideUseUpdate = defineUpdate<{ status: UseRequestStatus; decidedBy: string }, [UseDecisionInput]>('decideUse');
/**
 * Reserves an approved request for one signature (the validator refuses a second one while it is reserved or
 * used): answers at once with the approver. The signature's workflow settles it (settleUse) once it has signed
 * or failed. (Runs started before the patch 'use-reservation' spend it here, answering once it is used.)
 */
export const consumeUseUpdate = defineUpdate<{ approverId: string }, [UseConsumeInput]>('consumeUse');
/** Answers once the settlement took effect: the request is used, or its reservation dropped. */
export const settleUseUpdate = defineUpdate<{ status: UseRequestStatus }, [UseSettleInput]>('settleUse');
export const useRequestQuery = defineQuery<{ status: UseRequestStatus; decidedBy: string | null; reservedFor: string | null }>('useRequest');
export const useConsumeUpdateId = (requestId: string, registerId: string) => `consumeUse:${requestId}:${registerId}`;
export const useSettleUpdateId = (requestId: string, registerId: string) => `settleUse:${requestId}:${registerId}`;

/** Update refusals, mapped by the use-case to bilingual errors naming the field. */
export const USE_ALREADY_DECIDED = 'UseRequestAlreadyDecided';
export const USE_NOT_APPROVER = 'UseNotApprover';
export const USE_INVALID_DECISION = 'InvalidDecision';
export const USE_NOT_APPROVED = 'UseRequestNotApproved';
export const USE_ALREADY_USED = 'UseRequestAlreadyUsed';
export const USE_IN_USE = 'UseRequestInUse';
