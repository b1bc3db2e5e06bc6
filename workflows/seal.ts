// A seal from collection to its end: the one place where its status changes. Each change (requested
// through a lifecycle case, see change-request.ts) puts the certificate on hold, lifts the hold or revokes
// it, and regenerates the CRL. Its timers remind the keepers before the protection password expires (C2)
// and end a lockout after wrong passwords: the lock starts in PostgreSQL (each failure counted under a row
// lock), and this workflow owns its end, on a durable timer in workflow time.
// The workflow lives for years, so it continues as new before its history grows large.
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ApplicationDbActivities, ApplicationHsmActivities } from '../activities';
import { now, upsertCaseScope } from './case-desk';
import { DEFAULT_REMINDER_DAYS, reminderInstants } from '../domain/protection-password';
import { startArchiveRetention } from './retention-archive';
import {
  ALLOWED_CHANGES,
  NEXT_STATUS,
  applyChangeUpdate,
  passwordLockedSignal,
  passwordSetSignal,
  sealStatusQuery,
  type ChangeInput,
  type PasswordLock,
  type SealLifeStatus,
} from './seal-messages';
import { ACTIVITY_POLICIES as P, onQueue } from './activity-policies';
import { SIGN_DOCUMENTS_PATCH } from './document-signing-patch';

export interface SealWorkflowInput {
  sealId: string;
  districtCode: string;
  hsmTaskQueue: string;
  status: SealLifeStatus;
  /** How many runs came before (continue-as-new). */
  runs?: number;
  /** Continue as new beyond this many history events (tests lower it). */
  maxHistory?: number;
  /** Carried across continue-as-new: the protection password's expiry and the reminders already sent. */
  passwordExpiresAt?: string | null;
  remindersSent?: number[];
  /** Carried across continue-as-new: a lockout not yet ended. */
  passwordLock?: PasswordLock | null;
}

const db = proxyActivities<ApplicationDbActivities>(P.dbStatement);
const documents = proxyActivities<ApplicationDbActivities>(P.documentRendering);
const STATUS_LABELS: Record<SealLifeStatus, string> = { active: '在用', suspended: '暂停使用', stopped: '停止使用', cancelled: '已登出' };
const CHANGE_LABELS = { suspend: ['暂停', 'suspend'], resume: ['恢复', 'resume'], stop: ['停止使用', 'stop'], cancel: ['登出', 'cancel'], compromise: ['报告遗失或密钥泄露', 'report as lost or compromised'] } as const;

export async function sealWorkflow(input: SealWorkflowInput): Promise<{ status: SealLifeStatus }> {
  const hsm = proxyActivities<ApplicationHsmActivities>(onQueue(input.hsmTaskQueue, P.hsmOperation));
  upsertCaseScope(input.districtCode);
  let status = input.status;
  let busy = false;
  let passwordExpiresAt = input.passwordExpiresAt ?? null;
  let remindersSent = input.remindersSent ?? []; // days-before values (0 = the expiry notice)
  let passwordVersion = 0;
  let passwordLock = input.passwordLock ?? null;

  setHandler(sealStatusQuery, () => ({ status, runs: input.runs ?? 0, passwordExpiresAt, remindersSent, passwordLock }));
  setHandler(passwordSetSignal, ({ expiresAt }) => {
    passwordExpiresAt = expiresAt;
    remindersSent = [];
    passwordVersion++;
  });
  setHandler(passwordLockedSignal, ({ lockedUntil, durationMs }) => {
    if (passwordLock?.lockedUntil === lockedUntil) return;
    passwordLock = { lockedUntil, endsAt: new Date(Date.now() + Math.max(0, durationMs)).toISOString() };
    passwordVersion++;
  });
  setHandler(
    applyChangeUpdate,
    async (change: ChangeInput) => {
      busy = true;
      try {
        const at = now();
        const next = NEXT_STATUS[change.kind];
        // M13: a revocation keeps its first time; the reason follows the change (replacement superseded or
        // affiliationChanged, cancellation cessationOfOperation); a lost or compromised seal's key is destroyed
        // at once and its certificate revoked keyCompromise with the invalidity date reported.
        if (change.kind === 'cancel') {
          await hsm.destroySealKey({ sealId: input.sealId, at });
          await db.markSealCancelled({ sealId: input.sealId, reason: change.reason ?? 'holder_request', at, ...(change.revocationReason ? { revocationReason: change.revocationReason } : {}) });
        } else if (change.kind === 'compromise') {
          await hsm.destroySealKey({ sealId: input.sealId, at });
          await db.setSealLifeStatus({ sealId: input.sealId, status: 'stopped', at, revocationReason: 'keyCompromise', invalidityDate: change.invalidityDate ?? at });
        } else {
          await db.setSealLifeStatus({ sealId: input.sealId, status: next as Exclude<SealLifeStatus, 'cancelled'>, at });
        }
        await hsm.regenerateCrl({});
        if (change.kind === 'cancel') {
          await documents.produceDocument({ sealId: input.sealId, kind: 'cancellation_certificate', reason: change.reason ?? 'holder_request' });
          if (patched(SIGN_DOCUMENTS_PATCH)) await hsm.signSealDocument({ sealId: input.sealId, kind: 'cancellation_certificate' });
        }
        status = next;
        if (next === 'stopped' || next === 'cancelled') await startArchiveRetention(input.sealId, { kind: next, at }); // M7
        return { status };
      } finally {
        busy = false;
      }
    },
    {
      validator: (change: ChangeInput) => {
        if (busy || !ALLOWED_CHANGES[status].includes(change.kind)) {
          const [zh, en] = CHANGE_LABELS[change.kind] ?? ['变更', String(change.kind)];
          throw ApplicationFailure.create({
            type: 'WrongState',
            nonRetryable: true,
            message: `Cannot ${en} a seal that is ${status}`,
            details: [{ zh: `印章当前状态为“${STATUS_LABELS[status]}”，不能${zh}`, en: `Cannot ${en} a seal that is ${status}`, status }],
          });
        }
      },
    },
  );

  const maxHistory = input.maxHistory ?? 2000;
  const tooLong = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > maxHistory;
  /** The next reminder (14, 7, 1 days before) or the expiry notice (0) not yet sent. */
  const nextNotice = () => {
    if (!passwordExpiresAt || status === 'cancelled') return null;
    const expiry = new Date(passwordExpiresAt);
    const due = [...reminderInstants(expiry, DEFAULT_REMINDER_DAYS), { at: expiry, daysBefore: 0 }];
    return due.find((r) => !remindersSent.includes(r.daysBefore)) ?? null;
  };
  while (status !== 'cancelled') {
    const notice = nextNotice();
    const lock = passwordLock;
    const version = passwordVersion;
    const lockFirst = lock && (!notice || new Date(lock.endsAt).getTime() <= notice.at.getTime());
    const wakeAt = lockFirst ? new Date(lock.endsAt).getTime() : notice?.at.getTime();
    const interrupted = await condition(
      () => status === 'cancelled' || passwordVersion !== version || (!busy && tooLong()),
      wakeAt === undefined ? undefined : Math.max(0, wakeAt - Date.now()),
    );
    if (!interrupted && lockFirst) {
      // Lifts exactly this lock: a newer one (or a correct password meanwhile) is left as it is.
      await db.liftPasswordLock({ sealId: input.sealId, lockedUntil: lock.lockedUntil });
      if (passwordLock === lock) passwordLock = null;
    } else if (!interrupted && notice) {
      await db.sendPasswordNotice({ sealId: input.sealId, daysBefore: notice.daysBefore, expiresAt: passwordExpiresAt!, at: now() });
      remindersSent = [...remindersSent, notice.daysBefore];
    } else if ((status as SealLifeStatus) !== 'cancelled' && !busy && tooLong()) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof sealWorkflow>({ ...input, status, runs: (input.runs ?? 0) + 1, passwordExpiresAt, remindersSent, passwordLock });
    }
  }
  await condition(allHandlersFinished);
  return { status };
}
