// Messages of the application workflow, shared by the workflow and the web (types and definitions only).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export type CaseStatus =
  | 'materials_required'
  | 'awaiting_establishment_approval'
  | 'licence_paused'
  | 'awaiting_production'
  | 'producing'
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
}
export interface CollectionInput {
  collectorName: string;
  actorId: string;
}

/** The maker uploaded materials; the workflow re-checks what is still missing. */
export const materialsSubmittedUpdate = defineUpdate<{ missing: string[] }, []>('materialsSubmitted');
export const recordProductionUpdate = defineUpdate<{ status: CaseStatus }, [ProductionInput]>('recordProduction');
export const submitFilingUpdate = defineUpdate<{ filingId: string; late: boolean; taskId: string }, [FilingInput]>('submitFiling');
export const decideTaskUpdate = defineUpdate<{ status: CaseStatus }, [DecisionInput]>('decideTask');
export const recordCollectionUpdate = defineUpdate<{ status: CaseStatus }, [CollectionInput]>('recordCollection');
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
