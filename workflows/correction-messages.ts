// Messages of the correction-approval workflow (M5), shared by the workflow and the web (definitions only).
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DecisionAudit } from '../activities/applications';

export interface CorrectionApprovalInput {
  recordId: string;
  caseId: string;
  version: number;
  districtCode: string;
  dueAt: string | null;
}

export interface CorrectionDecisionInput {
  taskId: string;
  decision: 'accept' | 'return';
  reason: string | null;
  officerId: string;
  /** The deciding officer's district: the validator refuses any other than the case's. */
  officerDistrictCode: string | null;
  /** Who decided, from where: the decision's audit entry is written with the task's closing (M6). */
  audit?: DecisionAudit;
}

export const correctionWorkflowId = (recordId: string, version: number) => `correction:${recordId}:${version}`;
/** One Update per decision of a task: a retried request is answered, not applied again. */
export const correctionDecisionUpdateId = (taskId: string, decision: 'accept' | 'return') => `decideCorrection:${taskId}:${decision}`;
export const decideCorrectionUpdate = defineUpdate<{ decision: 'accept' | 'return' }, [CorrectionDecisionInput]>('decideCorrection');
export const correctionTaskQuery = defineQuery<{ taskId: string; decision: 'accept' | 'return' | null }>('correctionTask');
/** Update refusals (the web maps them: already decided → 409, another district → 403, bad input → 400). */
export const CORRECTION_DECIDED = 'CorrectionAlreadyDecided';
export const CORRECTION_WRONG_DISTRICT = 'CorrectionWrongDistrict';
export const CORRECTION_INVALID = 'InvalidDecision';
