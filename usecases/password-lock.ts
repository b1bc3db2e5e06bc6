// C2 lockout, its end: wrong protection passwords lock signing in PostgreSQL (counted one by one under a
// row lock, usecases/protection-passwords.ts), and the seal's workflow owns the lock's end: told of the lock here, it
// waits the lock's duration on a durable timer (workflow time) and lifts it (activity liftPasswordLock).
// `locked_until` is the end promised to the keeper; the check also treats a lock past it as lifted, so a
// late workflow never makes a lock outlast what was promised.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../infra/db';
import { DomainError } from '../domain/errors';
import { isLocked } from '../domain/protection-password';
import { passwordLockedSignal } from '../workflows/seal-messages';

/** Tells the seal's workflow of the lock in force now (if any). Idempotent: the same lock is timed once. */
export async function notifyPasswordLocked(deps: { db: Db; temporal: Client }, sealId: string, now: Date = new Date()): Promise<void> {
  const pw = await deps.db('protection_passwords').where({ seal_id: sealId }).first('locked_until');
  if (!pw || !isLocked(pw.locked_until, now)) return;
  const lockedUntil = new Date(pw.locked_until);
  await deps.temporal.workflow
    .getHandle(`seal:${sealId}`)
    .signal(passwordLockedSignal, { lockedUntil: lockedUntil.toISOString(), durationMs: lockedUntil.getTime() - now.getTime() })
    .catch((e: Error) => {
      // A seal without a workflow is not live and cannot sign; its lock ends by the clock alone.
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    });
}

/**
 * Runs a use-case that checks the protection password (changePassword); when it answers with the lock
 * (423 PASSWORD_LOCKED), the seal's workflow is told before the error goes out. Callers of checkMaySign
 * call notifyPasswordLocked when it answers 'locked'.
 */
export async function timingLockout<T>(deps: { db: Db; temporal: Client }, sealId: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof DomainError && e.code === 'PASSWORD_LOCKED') await notifyPasswordLocked(deps, sealId);
    throw e;
  }
}
