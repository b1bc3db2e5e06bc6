// Messages of a seal's own workflow, shared by the workflow and the web.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export type SealLifeStatus = 'active' | 'suspended' | 'stopped' | 'cancelled';
export type ChangeKind = 'suspend' | 'resume' | 'stop' | 'cancel';
export type CancellationReason = 'holder_request' | 'replacement';

export interface ChangeInput {
  changeCaseId: string;
  kind: ChangeKind;
  reason: CancellationReason | null;
}

/** Which change each status allows (M12, M13): a refused change names the current status (HTTP 409). */
export const ALLOWED_CHANGES: Readonly<Record<SealLifeStatus, readonly ChangeKind[]>> = {
  active: ['suspend', 'stop', 'cancel'],
  suspended: ['resume', 'stop', 'cancel'],
  stopped: ['cancel'],
  cancelled: [],
};

export const NEXT_STATUS: Readonly<Record<ChangeKind, SealLifeStatus>> = {
  suspend: 'suspended',
  resume: 'active',
  stop: 'stopped',
  cancel: 'cancelled',
};

export const applyChangeUpdate = defineUpdate<{ status: SealLifeStatus }, [ChangeInput]>('applyChange');
export const sealStatusQuery = defineQuery<{ status: SealLifeStatus; runs: number; passwordExpiresAt: string | null; remindersSent: number[] }>('sealStatus');
/** A keeper set, changed or reset the protection password (C2): reminders restart from its new expiry. */
export const passwordSetSignal = defineSignal<[{ expiresAt: string }]>('passwordSet');
