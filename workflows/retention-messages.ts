// Messages of the retention workflows (M7 archives, M8 premises video), shared by the workflows and the web.
import { ApplicationFailure, defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

// ---------- M8: premises video ----------

export type HoldRole = 'officer' | 'supervisor';

export interface LegalHold {
  holdId: string;
  placedBy: string;
  role: HoldRole;
  reason: string;
  placedAt: string;
}

/** retained: within the retention period; held: a legal hold is on; purge_pending: free to go; purged: gone. */
export type VideoRetentionStatus = 'retained' | 'held' | 'purge_pending' | 'purged';
export type PurgeBasis = 'retention_policy' | 'legal_hold_lifted';

export interface VideoRetentionState {
  segmentId: string;
  status: VideoRetentionStatus;
  retainUntil: string | null;
  retentionOver: boolean;
  holds: LegalHold[];
  purgedAt: string | null;
  purgeBasis: PurgeBasis | null;
  purgeOrderedBy: string | null;
}

export interface PlaceHoldInput {
  holdId: string;
  placedBy: string;
  role: HoldRole;
  reason: string;
}
export interface LiftHoldInput {
  holdId: string;
  liftedBy: string;
  role: HoldRole;
  reason: string;
}

export const placeLegalHoldUpdate = defineUpdate<VideoRetentionState, [PlaceHoldInput]>('placeLegalHold');
export const liftLegalHoldUpdate = defineUpdate<VideoRetentionState, [LiftHoldInput]>('liftLegalHold');
export const videoRetentionQuery = defineQuery<VideoRetentionState>('videoRetention');

// ---------- M7: seal archives ----------

export type SealEndKind = 'stopped' | 'cancelled';
export interface SealEnd {
  kind: SealEndKind;
  at: string;
}

export type ArchiveStatus = 'retained' | 'awaiting_disposal_decision' | 'disposed';
export type DisposalDecision = 'approve' | 'retain';

export interface ArchiveRetentionState {
  sealId: string;
  status: ArchiveStatus;
  ends: SealEnd[];
  retainUntil: string | null;
  openTask: { id: string; openedAt: string } | null;
  reviews: number;
  disposedAt: string | null;
}

export interface DisposalDecisionInput {
  taskId: string;
  decision: DisposalDecision;
  reason: string | null;
  supervisorId: string;
}

/** The seal ended again (stopped, then cancelled): its archive is kept at least as long from the later end. */
export const sealEndedSignal = defineSignal<[SealEnd]>('sealEnded');
export const decideDisposalUpdate = defineUpdate<ArchiveRetentionState, [DisposalDecisionInput]>('decideDisposal');
export const archiveRetentionQuery = defineQuery<ArchiveRetentionState>('archiveRetention');

/**
 * A refusal, in both languages, with a stable code; the web answers with `httpStatus` (409 for the state,
 * 400 for the input, 404 for something the workflow does not know).
 */
export function refusal(code: string, httpStatus: number, zh: string, en: string, field?: string) {
  return ApplicationFailure.create({ type: code, nonRetryable: true, message: en, details: [{ zh, en, httpStatus, field }] });
}
