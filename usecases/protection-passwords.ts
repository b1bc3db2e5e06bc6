// The seal's protection password (C2, U1): a keeper sets and changes it (wrong ones count towards the lock),
// signing checks it, and the seal's workflow is told of each new expiry to time its reminders.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { passwordSetSignal } from '../workflows/seal-messages';
import type { Knex } from 'knex';
import { personalData } from '../infra/crypto/personal-data';
import { hashPassword, needsRehash, verifyPassword } from '../infra/passwords';
import { conflict, DomainError, fieldRef, invalidField, notFound, requiredField, ValidationCollector } from '../domain/errors';
import { assertPasswordPolicy, isLocked, maySign, normalisePassword, registerFailedAttempt, registerSuccessfulAttempt, type MaySignResult } from '../domain/protection-password';
import { formatShanghai } from '../domain/calendar';
import { normaliseCodeInput } from '../domain/uscc';
import type { Actor } from '../domain/actor';
import { activeKeeper, assertNotCancelled, loadSeal, logEvent } from '../infra/custody';
import { forbidden } from '../domain/refusals';
import { F, Json, KeeperDeps, PdDeps, UUID, assertHolderOf, obj, parseKeeperId, passwordContext, passwordExpiryFrom, passwordStatus, requireKeeper } from './custody';

// ---------- the protection password (C2) ----------

/**
 * A keeper sets the seal's first protection password, at collection (`{ id_number, password }`): by holder
 * staff or at the seal's maker. Refused once a password exists (change it, or apply for a reset).
 */
export async function setInitialPassword(deps: KeeperDeps, actor: Actor, sealId: string, body: unknown, now = new Date()) {
  const seal = await loadSeal(deps.db, sealId);
  const ok = (actor.role === 'holder' && actor.holderId === seal.holder_id) || (actor.role === 'maker' && actor.makerId === seal.maker_id);
  if (!ok) throw forbidden("Only the holder's staff or the seal's maker may do this", '只有印章所属单位或其制作单位可以办理');
  assertNotCancelled(seal);
  const b = obj(body);
  const v = new ValidationCollector();
  const idNumber = v.check(() => parseKeeperId(b, now));
  const password = v.check(() => assertPasswordPolicy(b.password, passwordContext(seal, idNumber)));
  v.throwIfAny();
  const keeper = await requireKeeper(deps, seal.id, idNumber!);
  const exists = () => conflict('PASSWORD_ALREADY_SET', '此印章已设置保护口令；请用原口令修改，或申请重置（C3）', 'This seal already has a protection password; change it with the current one, or apply for a reset (C3)');
  if (await deps.db('protection_passwords').where({ seal_id: seal.id }).first('seal_id')) throw exists();
  const hash = await hashPassword(password!);
  await deps.db.transaction(async (trx) => {
    const inserted = await trx('protection_passwords')
      .insert({ seal_id: seal.id, hash, set_by_keeper_id: keeper.id, set_at: now, expires_at: passwordExpiryFrom(deps, now), failed_attempts: 0, locked_until: null })
      .onConflict('seal_id')
      .ignore()
      .returning('seal_id');
    if (inserted.length === 0) throw exists();
    await logEvent(trx, seal.case_id, 'protection_password_set', { seal_id: seal.id, keeper_id: keeper.id }, actor.userId, now);
  });
  return passwordStatus(deps.db, seal.id, now);
}

interface PasswordRow {
  seal_id: string;
  hash: string;
  expires_at: Date;
  failed_attempts: number;
  locked_until: Date | null;
}

/** Counts a wrong password on a locked row (inside the caller's transaction); returns the new state. */
async function recordFailure(trx: Knex.Transaction, pw: PasswordRow, now: Date) {
  const next = registerFailedAttempt({ failedAttempts: pw.failed_attempts, lockedUntil: pw.locked_until }, now);
  await trx('protection_passwords').where({ seal_id: pw.seal_id }).update({ failed_attempts: next.failedAttempts, locked_until: next.lockedUntil });
  return next;
}

function lockedError(lockedUntil: Date) {
  const until = formatShanghai(lockedUntil);
  return new DomainError({
    code: 'PASSWORD_LOCKED',
    messageZh: `保护口令连续输错次数过多，已锁定至 ${until}`,
    messageEn: `Too many wrong protection passwords; locked until ${until}`,
    httpStatus: 423,
    details: { locked_until: lockedUntil.toISOString() },
  });
}

/**
 * A keeper changes the password with the current one (`{ id_number, old_password, password }`), also after
 * it expired. A wrong current password counts towards the lockout; the new one must differ from it.
 */
export async function changePassword(deps: KeeperDeps, actor: Actor, sealId: string, body: unknown, now = new Date()) {
  const seal = await loadSeal(deps.db, sealId);
  assertHolderOf(actor, seal);
  assertNotCancelled(seal);
  const b = obj(body);
  const v = new ValidationCollector();
  const idNumber = v.check(() => parseKeeperId(b, now));
  if (typeof b.old_password !== 'string' || b.old_password === '') v.add(requiredField(F.oldPassword));
  const password = v.check(() => assertPasswordPolicy(b.password, passwordContext(seal, idNumber)));
  v.throwIfAny();
  const keeper = await requireKeeper(deps, seal.id, idNumber!);
  const newHash = await hashPassword(password!);

  const outcome = await deps.db.transaction(async (trx) => {
    const pw: PasswordRow | undefined = await trx('protection_passwords').where({ seal_id: seal.id }).forUpdate().first();
    if (!pw) return { kind: 'no_password' as const };
    if (isLocked(pw.locked_until, now)) return { kind: 'locked' as const, until: pw.locked_until! };
    if (!(await verifyPassword(pw.hash, b.old_password as string))) return { kind: 'wrong' as const, next: await recordFailure(trx, pw, now) };
    if (normalisePassword(b.old_password as string) === password) {
      await trx('protection_passwords').where({ seal_id: seal.id }).update(registerSuccessfulAttemptRow());
      return { kind: 'same' as const };
    }
    await trx('protection_passwords')
      .where({ seal_id: seal.id })
      .update({ hash: newHash, set_by_keeper_id: keeper.id, set_at: now, expires_at: passwordExpiryFrom(deps, now), ...registerSuccessfulAttemptRow() });
    await logEvent(trx, seal.case_id, 'protection_password_changed', { seal_id: seal.id, keeper_id: keeper.id }, actor.userId, now);
    return { kind: 'changed' as const };
  });
  switch (outcome.kind) {
    case 'no_password':
      throw conflict('NO_PASSWORD', '此印章尚未设置保护口令，请先设置', 'This seal has no protection password yet; set one first');
    case 'locked':
      throw lockedError(outcome.until);
    case 'wrong':
      if (outcome.next.lockedNow) throw lockedError(outcome.next.lockedUntil!);
      throw invalidField(F.oldPassword, `不正确（再输错${outcome.next.attemptsLeft}次将被锁定）`, `is wrong (${outcome.next.attemptsLeft} more wrong attempts lock it)`, {
        code: 'WRONG_PASSWORD',
        details: { attempts_left: outcome.next.attemptsLeft },
      });
    case 'same':
      throw invalidField(fieldRef('password', '保护口令', 'Protection password'), '新口令不能与原口令相同', 'must differ from the current password', { code: 'PASSWORD_REUSED' });
    case 'changed':
      return passwordStatus(deps.db, seal.id, now);
  }
}

export function registerSuccessfulAttemptRow() {
  const s = registerSuccessfulAttempt();
  return { failed_attempts: s.failedAttempts, locked_until: s.lockedUntil };
}

export type SignCheck = MaySignResult | { allowed: false; reason: 'wrong_password'; zh: string; en: string; attemptsLeft: number };

/**
 * The internal check before a signature (C1, C2, U1): is `keeperIdNumber` a current keeper of a live seal
 * and is `password` its protection password? The state is judged first (a locked password is not checked);
 * then the password is verified under a row lock, so concurrent guesses are counted one by one: a failure
 * counts towards the lockout, a success clears the counter. An expired password is reported only to
 * someone who knows it.
 */
export async function checkMaySign(deps: PdDeps, sealId: string, keeperIdNumber: string, password: string, now: Date = new Date()): Promise<SignCheck> {
  if (!UUID.test(sealId)) throw notFound('SEAL_NOT_FOUND', '印章不存在', 'Seal not found');
  const idNumber = typeof keeperIdNumber === 'string' ? normaliseCodeInput(keeperIdNumber) : '';
  const idHash = idNumber ? await personalData(deps).idLookupHash(idNumber) : '';
  return deps.db.transaction(async (trx) => {
    const seal = await trx('seals').where({ id: sealId }).first('id', 'status');
    if (!seal) throw notFound('SEAL_NOT_FOUND', '印章不存在', 'Seal not found');
    const keeper = idHash ? await activeKeeper(trx, sealId, idHash) : undefined;
    const pw: PasswordRow | undefined = await trx('protection_passwords').where({ seal_id: sealId }).forUpdate().first();
    const state = (p: { expires_at: Date; locked_until: Date | null }) => ({ expiresAt: p.expires_at, lockedUntil: p.locked_until });
    const judged = maySign({ sealStatus: seal.status, isKeeper: !!keeper, password: pw ? state(pw) : null, now });
    if (!judged.allowed && judged.reason !== 'password_expired') return judged;
    if (!(await verifyPassword(pw!.hash, password))) {
      const next = await recordFailure(trx, pw!, now);
      if (next.lockedNow) return maySign({ sealStatus: seal.status, isKeeper: true, password: { expiresAt: pw!.expires_at, lockedUntil: next.lockedUntil }, now });
      return {
        allowed: false as const,
        reason: 'wrong_password' as const,
        zh: `保护口令不正确（再输错${next.attemptsLeft}次将被锁定）`,
        en: `Wrong protection password (${next.attemptsLeft} more wrong attempts lock it)`,
        attemptsLeft: next.attemptsLeft,
      };
    }
    const patch: Json = pw!.failed_attempts !== 0 || pw!.locked_until !== null ? registerSuccessfulAttemptRow() : {};
    if (needsRehash(pw!.hash)) patch.hash = await hashPassword(password);
    if (Object.keys(patch).length > 0) await trx('protection_passwords').where({ seal_id: sealId }).update(patch);
    return judged;
  });
}

// ---------- the seal's workflow (C2 reminders) ----------

/** The seal's workflow times its expiry reminders from the new expiry. A seal without one (not live) has none to time. */
export async function notifyPasswordSet(temporal: Client, sealId: string, expiresAt: Date | string | null | undefined): Promise<void> {
  if (!expiresAt) return;
  await temporal.workflow
    .getHandle(`seal:${sealId}`)
    .signal(passwordSetSignal, { expiresAt: new Date(expiresAt).toISOString() })
    .catch((e: Error) => {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    });
}
