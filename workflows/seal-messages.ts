// Messages of a seal's own workflow, shared by the workflow and the web.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export type SealLifeStatus = 'active' | 'suspended' | 'stopped' | 'cancelled';
/** `compromise`: the holder or an officer reported the seal lost or its key compromised (M13). */
export type ChangeKind = 'suspend' | 'resume' | 'stop' | 'cancel' | 'compromise';
export type CancellationReason = 'holder_request' | 'replacement';
/** RFC 5280 CRLReason names a change revokes with (suspension is certificateHold, not a revocation). */
export type RevocationReason = 'cessationOfOperation' | 'superseded' | 'affiliationChanged' | 'keyCompromise';

export interface ChangeInput {
  changeCaseId: string;
  kind: ChangeKind;
  reason: CancellationReason | null;
  /** The certificate's revocation reason when this change is its first revocation (default cessationOfOperation). */
  revocationReason?: RevocationReason;
  /** compromise: since when the key is known or suspected compromised (ISO; RFC 5280 invalidityDate). */
  invalidityDate?: string | null;
}

/** Which change each status allows (M12, M13): a refused change names the current status (HTTP 409). */
export const ALLOWED_CHANGES: Readonly<Record<SealLifeStatus, readonly ChangeKind[]>> = {
  active: ['suspend', 'stop', 'cancel', 'compromise'],
  suspended: ['resume', 'stop', 'cancel', 'compromise'],
  stopped: ['cancel', 'compromise'],
  cancelled: [],
};

export const NEXT_STATUS: Readonly<Record<ChangeKind, SealLifeStatus>> = {
  suspend: 'suspended',
  resume: 'active',
  stop: 'stopped',
  cancel: 'cancelled',
  compromise: 'stopped',
};

/** A lock on the protection password as the seal's workflow times it; `endsAt` is in workflow time. */
export interface PasswordLock {
  lockedUntil: string;
  endsAt: string;
}

export const applyChangeUpdate = defineUpdate<{ status: SealLifeStatus }, [ChangeInput]>('applyChange');
export const sealStatusQuery = defineQuery<{ status: SealLifeStatus; runs: number; passwordExpiresAt: string | null; remindersSent: number[]; passwordLock: PasswordLock | null }>('sealStatus');
/** A keeper set, changed or reset the protection password (C2): reminders restart from its new expiry. */
export const passwordSetSignal = defineSignal<[{ expiresAt: string }]>('passwordSet');
/**
 * Wrong protection passwords locked signing (C2 lockout) until `lockedUntil`, `durationMs` from now: the
 * workflow times the lock and lifts it when it ends. `lockedUntil` names the lock (the same lock told twice
 * is timed once).
 */
export const passwordLockedSignal = defineSignal<[{ lockedUntil: string; durationMs: number }]>('passwordLocked');
