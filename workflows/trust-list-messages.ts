// Messages of the trust-list change workflow (I2), shared by the workflow and the use-case (definitions only).
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DecisionAudit } from '../activities/applications';

export interface TrustListChangeInput {
  changeId: string;
  /** The supervisor who proposed it: the validator refuses them as the decider (four eyes). */
  proposedBy: string;
}

export interface TrustListDecisionInput {
  decision: 'approve' | 'reject';
  reason: string | null;
  supervisorId: string;
  audit: DecisionAudit;
}

export const trustListChangeWorkflowId = (changeId: string) => `trust-list-change:${changeId}`;
export const trustListDecisionUpdateId = (changeId: string, supervisorId: string, decision: string) => `decideTrustListChange:${changeId}:${supervisorId}:${decision}`;
export const decideTrustListChangeUpdate = defineUpdate<{ decision: 'approve' | 'reject' }, [TrustListDecisionInput]>('decideTrustListChange');
export const trustListChangeQuery = defineQuery<{ decision: 'approve' | 'reject' | null }>('trustListChange');
/** Update refusals (the use-case maps them: decided → 409, own proposal → 403, bad input → 400). */
export const TRUST_CHANGE_DECIDED = 'TrustListChangeDecided';
export const TRUST_CHANGE_SAME_SUPERVISOR = 'TrustListChangeSameSupervisor';
export const TRUST_CHANGE_INVALID = 'InvalidTrustListDecision';
