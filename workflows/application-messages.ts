// Messages of the application workflow, shared by the workflow and the web (types and definitions only).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DecisionAudit } from '../activities/applications';

export type CaseStatus =
  | 'materials_required'
  | 'awaiting_establishment_approval'
  | 'licence_paused'
  | 'awaiting_production'
  | 'producing'
  // a production step that cannot succeed stopped the case (the maker tells the holder, then closes it)
  | 'production_failed'
  | 'production_abandoned'
  | 'awaiting_filing'
  | 'filing_under_review'
  | 'filing_returned'
  | 'ready'
  | 'collected'
  | 'rejected'
  | 'cancelled_unclaimed'
  // lifecycle requests (suspend, resume, stop, cancel, replace)
  | 'processing'
  | 'completed'
  | 'refused'
  // C3: a protection-password reset awaiting the district officer's approval
  | 'awaiting_reset_approval';

// production_correction: opened by workflows/correction-approval.ts, not by a case's workflow (M5).
/** Statuses after which a case takes no more steps (no ID check, no move to another district). */
export const CLOSED_CASE_STATUSES: readonly CaseStatus[] = ['collected', 'rejected', 'cancelled_unclaimed', 'completed', 'refused', 'production_abandoned'];

export type TaskKind = 'establishment_approval' | 'filing_review' | 'cancellation_filing' | 'password_reset_approval' | 'production_correction';
export type Decision = 'accept' | 'return';

export interface CaseState {
  status: CaseStatus;
  reason: { zh: string; en: string } | null;
  missingMaterials: string[];
  openTask: { id: string; kind: TaskKind } | null;
  filingDueAt: string | null;
  filingOverdue: boolean;
  unclaimedDueAt: string | null;
}

export interface ProductionInput {
  productionData: Record<string, unknown>;
  onSiteImageMaterialId: string;
  actorId: string;
}
export interface FilingInput {
  data: Record<string, unknown>;
  actorId: string;
}
export interface DecisionInput {
  taskId: string;
  decision: Decision;
  reason: string | null;
  officerId: string;
  /** Who decided, from where: the decision's audit entry is written with the task's closing (M6). */
  audit?: DecisionAudit;
  /** C3: the SHA-256 of the one-time reset link the approving officer hands over (never the link itself). */
  resetTokenSha256?: string;
}
export type { DecisionAudit };
/** What a decision led to: the case's status once the workflow has acted on it (it then waits again). */
export interface DecisionAnswer {
  taskId: string;
  decision: Decision;
  reason: string | null;
  decidedBy: string;
  status: CaseStatus;
  /** C3: the hash of the reset link issued on this approval (the answer to a retried request may differ from its own). */
  resetTokenSha256?: string | null;
}
/** An update id from the request: the same decision on the same task is one Update, however often it is sent. */
export const decisionUpdateId = (taskId: string, decision: Decision) => `decide:${taskId}:${decision}`;
export interface CollectionInput {
  collectorName: string;
  actorId: string;
}

/** The maker uploaded materials; the workflow re-checks what is still missing. */
export const materialsSubmittedUpdate = defineUpdate<{ missing: string[] }, []>('materialsSubmitted');
/** Answers with the status production led to (producing, or licence_paused when M1 stops it). */
export const recordProductionUpdate = defineUpdate<{ status: CaseStatus }, [ProductionInput]>('recordProduction');
export const submitFilingUpdate = defineUpdate<{ filingId: string; late: boolean; taskId: string; status?: CaseStatus }, [FilingInput]>('submitFiling');
export const decideTaskUpdate = defineUpdate<DecisionAnswer, [DecisionInput]>('decideTask');

/** P3: a supervisor moves the case to another district; its open task goes with it. */
export interface MoveDistrictInput {
  toDistrict: string;
  reason: string;
  supervisorId: string;
  audit: DecisionAudit;
}
export const moveDistrictUpdate = defineUpdate<{ fromDistrict: string; toDistrict: string; status: CaseStatus }, [MoveDistrictInput]>('moveDistrict');
export const recordCollectionUpdate = defineUpdate<{ status: CaseStatus }, [CollectionInput]>('recordCollection');
/** The maker has told the holder that production failed; the case closes (its task on the maker's desk is done). */
export const closeFailedProductionUpdate = defineUpdate<{ status: CaseStatus }, [{ actorId: string }]>('closeFailedProduction');
/** An administrator changed the maker's licence; a paused case checks it again. */
export const licenceChangedSignal = defineSignal('licenceChanged');
/**
 * Workflow first (issue 17): a case's workflow is started before its rows are written, so that an outage of
 * Temporal leaves no case without a workflow. The web then says whether the rows were stored (or refused).
 */
export const caseRecordSignal = defineSignal<[{ stored: boolean }]>('caseRecord');
export const caseStateQuery = defineQuery<CaseState>('caseState');

/** Reasons a workflow refuses an update, in both languages (the web turns them into 409s). */
export const WRONG_STATE = 'WrongState';
/** A second decision on a task already decided (409). */
export const TASK_DECIDED = 'TaskAlreadyDecided';
