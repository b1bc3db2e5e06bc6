// C3: the one-time password-reset page. The approved reset's link (minted for the holder's e-mail/SMS or inbox,
// infra/reset-links.ts) opens a page where the keeper proves identity — the ID number, then a code sent by SMS
// to the phone registered with the reset request — and sets the new protection password. Link and code are
// single-use, expire (durations.resetLinkValidity / resetCodeValidity), are stored only hashed, and every wrong
// ID number or code counts: the 5th locks the reset (RESET_CODE_POLICY), and the holder applies again.
import { randomInt } from 'node:crypto';
import type { Knex } from 'knex';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import { personalData } from '../infra/crypto/personal-data';
import { hashPassword, verifyPassword } from '../infra/passwords';
import { assertNotCancelled, loadSeal, logEvent, sha256Hex, type KeeperRow } from '../infra/custody';
import { mintResetLink } from '../infra/reset-links';
import { PermanentSendError, sendSms } from '../infra/notify/senders';
import { addIsoDuration, durationToMs } from '../domain/calendar';
import { assertPasswordPolicy, RESET_CODE_POLICY, registerWrongResetProof } from '../domain/protection-password';
import { conflict, DomainError, fieldRef, invalidField, notFound, requiredField, ruleViolation } from '../domain/errors';
import { forbidden } from '../domain/refusals';
import type { Actor } from '../domain/actor';
import { keeperPlace, parseKeeperId, passwordContext, passwordExpiryFrom, passwordStatus, type KeeperDeps, type PasswordStatus } from './custody';
import { registerSuccessfulAttemptRow } from './protection-passwords';

export type ResetPageDeps = KeeperDeps & { config: Pick<Config, 'durations' | 'notify'> };

const RESET_TOKEN = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url without padding
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CODE_FIELD = fieldRef('code', '短信验证码', 'SMS code');
const ID_FIELD = fieldRef('id_number', '保管人身份证件号码', "Keeper's identity document number");
/** A new code no sooner than this after the last one: the keeper's phone is not a target for floods. */
const CODE_RESEND_MS = 60_000;

const gone = (code: string, zh: string, en: string) => new DomainError({ code, messageZh: zh, messageEn: en, httpStatus: 410 });
const unknownLink = () => notFound('RESET_LINK_UNKNOWN', '重置链接不存在', 'Reset link not found');
const usedLink = () => gone('RESET_LINK_USED', '重置链接已使用过，不能再次使用', 'This reset link has already been used');
const lockedReset = () =>
  gone('RESET_LOCKED', '身份核验错误次数过多，此次重置已锁定，请重新向公安机关申请', 'Too many wrong ID numbers or codes: this reset is locked; apply again at the police office');

interface Grant {
  case_id: string;
  seal_id: string;
  keeper_id: string;
  expires_at: Date;
  used_at: Date | null;
  code_hash: string | null;
  code_expires_at: Date | null;
  failed_attempts: number;
  locked_at: Date | null;
}

/** The link and its grant, if both can still be used; otherwise the refusal that says why. */
async function openLink(db: Db, token: string, now: Date): Promise<{ tokenSha: string; grant: Grant }> {
  if (typeof token !== 'string' || !RESET_TOKEN.test(token)) throw unknownLink();
  const tokenSha = sha256Hex(token);
  const link = await db('password_reset_links').where({ token_sha256: tokenSha }).first();
  if (!link) throw unknownLink();
  const grant: Grant | undefined = await db('password_reset_grants').where({ case_id: link.case_id }).first();
  if (!grant) throw unknownLink();
  if (link.used_at || grant.used_at) throw usedLink();
  if (grant.locked_at) throw lockedReset();
  if (now >= link.expires_at || now >= grant.expires_at) throw gone('RESET_LINK_EXPIRED', '重置链接已过期，请重新申请', 'This reset link has expired; apply again');
  return { tokenSha, grant };
}

/** One more wrong ID number or code, counted in the caller's transaction that holds the grant's row lock. */
async function countWrongProof(trx: Knex.Transaction, caseId: string, field: typeof CODE_FIELD, failedAttempts: number, now: Date) {
  const next = registerWrongResetProof(failedAttempts);
  await trx('password_reset_grants').where({ case_id: caseId }).update({ failed_attempts: next.failedAttempts, ...(next.locked ? { locked_at: now } : {}) });
  await logEvent(trx, caseId, next.locked ? 'password_reset_locked' : 'password_reset_proof_wrong', { field: field.key, failed_attempts: next.failedAttempts }, null, now);
  return next;
}

function wrongProof(field: typeof CODE_FIELD, after: { locked: boolean; attemptsLeft: number }): DomainError {
  if (after.locked) return lockedReset();
  const what = field === CODE_FIELD ? { zh: '验证码不正确', en: 'wrong code' } : { zh: '与申请重置的保管人不符', en: 'does not match the keeper the reset was approved for' };
  return ruleViolation('RESET_PROOF_WRONG', `${what.zh}（再错${after.attemptsLeft}次将锁定此次重置）`, `${what.en} (${after.attemptsLeft} more wrong attempts lock this reset)`, { field });
}

/** The grant under its row lock, refused when it was used or locked meanwhile (guesses are judged one by one). */
async function lockGrant(trx: Knex.Transaction, caseId: string): Promise<Grant> {
  const g: Grant = await trx('password_reset_grants').where({ case_id: caseId }).forUpdate().first();
  if (g.used_at) throw usedLink();
  if (g.locked_at) throw lockedReset();
  return g;
}

const maskPhone = (p: string) => (p.length >= 7 ? `${p.slice(0, 3)}****${p.slice(-4)}` : '****');

export interface ResetLinkState {
  seal_code: string;
  expires_at: Date;
  /** A code was sent and can still be typed. */
  code_sent: boolean;
  attempts_left: number;
}

/** What the page shows before anything is typed (nothing about the keeper: the link alone proves nothing). */
export async function resetLinkState(deps: ResetPageDeps, token: string, now = new Date()): Promise<ResetLinkState> {
  const { grant } = await openLink(deps.db, token, now);
  const seal = await loadSeal(deps.db, grant.seal_id);
  return {
    seal_code: seal.seal_code ?? '',
    expires_at: grant.expires_at,
    code_sent: !!grant.code_expires_at && now < grant.code_expires_at,
    attempts_left: RESET_CODE_POLICY.maxFailedAttempts - grant.failed_attempts,
  };
}

/**
 * Step 1: the keeper's ID number (`{ id_number, id_type? }`). When it is the keeper's, a fresh code goes by SMS
 * (the gateway adapter of infra/notify) to the phone given with the reset request; only its argon2id hash is kept.
 */
export async function sendResetCode(deps: ResetPageDeps, token: string, body: unknown, now = new Date()): Promise<{ phone_masked: string; code_expires_at: Date }> {
  const { grant } = await openLink(deps.db, token, now);
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (b.id_number === undefined || b.id_number === '') throw requiredField(ID_FIELD);
  const idNumber = parseKeeperId(b, now);
  const keeper: KeeperRow | undefined = await deps.db('seal_keepers').where({ id: grant.keeper_id }).whereNull('removed_at').first();
  if (!keeper) throw conflict('KEEPER_REMOVED', '该链接的保管人已不是此印章的保管人', 'The keeper of this link is no longer a keeper of this seal');
  const pd = personalData(deps);
  if ((await pd.idLookupHash(idNumber)) !== keeper.id_number_hmac) {
    const after = await deps.db.transaction(async (trx) => countWrongProof(trx, grant.case_id, ID_FIELD, (await lockGrant(trx, grant.case_id)).failed_attempts, now));
    throw wrongProof(ID_FIELD, after);
  }
  if (grant.code_expires_at && now.getTime() < grant.code_expires_at.getTime() - durationToMs(deps.config.durations.resetCodeValidity) + CODE_RESEND_MS) {
    throw new DomainError({ code: 'RESET_CODE_RECENT', messageZh: '验证码刚刚发出，请稍候一分钟再重新获取', messageEn: 'A code was sent just now; wait a minute before asking for another', httpStatus: 429 });
  }
  const c = await deps.db('cases').where({ id: grant.case_id }).first('handler_phone');
  const phone = await pd.decrypt(c.handler_phone, { table: 'cases', column: 'handler_phone', row: grant.case_id });
  if (!phone) throw conflict('NO_REGISTERED_PHONE', '重置申请未登记保管人手机号码，请重新申请', 'The reset request has no registered phone; apply again');
  const code = String(randomInt(0, 10 ** RESET_CODE_POLICY.digits)).padStart(RESET_CODE_POLICY.digits, '0');
  const codeExpiresAt = addIsoDuration(now, deps.config.durations.resetCodeValidity);
  const sent = await deps.db.transaction(async (trx) => {
    await lockGrant(trx, grant.case_id);
    const n = await trx('case_events').where({ case_id: grant.case_id, type: 'password_reset_code_sent' }).count<{ count: string }[]>({ count: '*' });
    await trx('password_reset_grants').where({ case_id: grant.case_id }).update({ code_hash: await hashPassword(code), code_expires_at: codeExpiresAt });
    await logEvent(trx, grant.case_id, 'password_reset_code_sent', { phone_masked: maskPhone(phone), code_expires_at: codeExpiresAt.toISOString() }, null, now);
    return Number(n[0].count) + 1;
  });
  const minutes = Math.round(durationToMs(deps.config.durations.resetCodeValidity) / 60_000);
  try {
    await sendSms(deps.config.notify, {
      idempotencyKey: `reset-code:${grant.case_id}:${sent}`,
      to: phone,
      subject: '保护口令重置验证码 / Password reset code',
      text: `验证码 ${code}，${minutes} 分钟内有效，请勿告诉他人 / Code ${code}, valid ${minutes} minutes; tell no one`,
    });
  } catch (e) {
    if (e instanceof PermanentSendError) throw new DomainError({ code: 'SMS_UNAVAILABLE', messageZh: '短信发送失败，请稍后重试', messageEn: 'The SMS could not be sent; try again later', httpStatus: 503 });
    throw e;
  }
  return { phone_masked: maskPhone(phone), code_expires_at: codeExpiresAt };
}

/** Step 2: `{ code, password }`. A password that fails the policy costs nothing; a wrong code counts. */
export async function resetWithCode(deps: ResetPageDeps, token: string, body: unknown, now = new Date()): Promise<PasswordStatus> {
  const { tokenSha, grant } = await openLink(deps.db, token, now);
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  if (b.code === undefined || b.code === '') throw requiredField(CODE_FIELD);
  const code = String(b.code).trim();
  if (!new RegExp(`^\\d{${RESET_CODE_POLICY.digits}}$`).test(code)) throw invalidField(CODE_FIELD, `应为${RESET_CODE_POLICY.digits}位数字`, `must be ${RESET_CODE_POLICY.digits} digits`);
  if (!grant.code_hash || !grant.code_expires_at || now >= grant.code_expires_at) {
    throw ruleViolation('RESET_CODE_EXPIRED', '验证码已过期或尚未获取，请重新获取', 'has expired or was never sent; ask for a new one', { field: CODE_FIELD });
  }
  const seal = await loadSeal(deps.db, grant.seal_id);
  assertNotCancelled(seal);
  const keeper: KeeperRow | undefined = await deps.db('seal_keepers').where({ id: grant.keeper_id }).whereNull('removed_at').first();
  if (!keeper) throw conflict('KEEPER_REMOVED', '该链接的保管人已不是此印章的保管人', 'The keeper of this link is no longer a keeper of this seal');
  const password = assertPasswordPolicy(b.password, passwordContext(seal, await personalData(deps).decrypt(keeper.id_number, keeperPlace(keeper.id))));
  const hash = await hashPassword(password);
  const wrong = await deps.db.transaction(async (trx) => {
    // Single use, one guess at a time: the code is judged under the grant's row lock.
    const g = await lockGrant(trx, grant.case_id);
    if (!g.code_hash || !g.code_expires_at || now >= g.code_expires_at) throw ruleViolation('RESET_CODE_EXPIRED', '验证码已过期或尚未获取，请重新获取', 'has expired or was never sent; ask for a new one', { field: CODE_FIELD });
    if (!(await verifyPassword(g.code_hash, code))) return countWrongProof(trx, g.case_id, CODE_FIELD, g.failed_attempts, now);
    await trx('password_reset_grants').where({ case_id: g.case_id }).update({ used_at: now, code_hash: null });
    await trx('password_reset_links').where({ token_sha256: tokenSha }).update({ used_at: now });
    const row = { hash, set_by_keeper_id: keeper.id, set_at: now, expires_at: passwordExpiryFrom(deps, now), ...registerSuccessfulAttemptRow() };
    await trx('protection_passwords').insert({ seal_id: seal.id, ...row }).onConflict('seal_id').merge(row);
    await trx('password_reset_links').where({ seal_id: seal.id }).whereNull('used_at').where('expires_at', '>', now).update({ expires_at: now });
    await logEvent(trx, seal.case_id, 'protection_password_reset', { seal_id: seal.id, keeper_id: keeper.id, reset_case_id: g.case_id }, null, now);
    await logEvent(trx, g.case_id, 'protection_password_reset', { seal_id: seal.id, keeper_id: keeper.id }, null, now);
    return null;
  });
  if (wrong) throw wrongProof(CODE_FIELD, wrong);
  return passwordStatus(deps.db, seal.id, now);
}

/**
 * The inbox's link of an approved reset (holder staff of the seal's holder): a link minted now, for this
 * account, to hand to the keeper. Null when the reset is closed (used, locked, expired).
 */
export async function openResetFromInbox(db: Db, actor: Actor, caseId: string, now = new Date()): Promise<string | null> {
  if (!UUID.test(caseId)) throw unknownLink();
  const c = await db('cases').where({ id: caseId, kind: 'password_reset' }).first('holder_id');
  if (!c) throw unknownLink();
  if (actor.role !== 'holder' || actor.holderId !== c.holder_id) throw forbidden("Only the seal holder's staff may do this", '只有印章所属单位的人员可以办理');
  return mintResetLink(db, caseId, `inbox:${actor.userId}`, now);
}
