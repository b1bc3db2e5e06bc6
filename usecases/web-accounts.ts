// Local accounts of the back office in the browser (P1): login with an argon2id password, sessions kept in
// PostgreSQL (only the SHA-256 of the 32-byte session id is stored), a CSRF synchronizer token per session,
// throttling (per username and source address, per source and per account: usecases/login-throttle.ts),
// logout and password change.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../infra/db';
import { hashPassword, needsRehash, verifyPassword } from '../infra/passwords';
import { DomainError, fieldRef, invalidField, requiredField, ValidationCollector } from '../domain/errors';
import type { Actor, Role } from '../domain/actor';
import { assertNotThrottled, registerLoginFailure, registerLoginSuccess } from './login-throttle';

/** A session ends after 12 hours whatever happens, or after 2 idle hours. */
export const SESSION_ABSOLUTE_MS = 12 * 3600_000;
export const SESSION_IDLE_MS = 2 * 3600_000;
const TOUCH_EVERY_MS = 60_000;

export const SESSION_ID = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url without padding

const F = {
  username: fieldRef('username', '用户名', 'Username'),
  password: fieldRef('password', '密码', 'Password'),
  current: fieldRef('current_password', '当前密码', 'Current password'),
  next: fieldRef('new_password', '新密码', 'New password'),
  confirm: fieldRef('confirm_password', '确认新密码', 'Confirm new password'),
} as const;

export const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
export const newSecret = () => randomBytes(32).toString('base64url');

/** Compares two secrets in constant time (for equal lengths). */
export function sameSecret(a: unknown, b: unknown): boolean {
  if (typeof a !== 'string' || typeof b !== 'string' || a.length === 0 || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export interface WebSession {
  idSha256: string;
  csrfToken: string;
  userId: string;
  displayName: string;
  expiresAt: Date;
}

const normaliseUsername = (u: unknown) => (typeof u === 'string' ? u.normalize('NFC').trim().toLowerCase().slice(0, 200) : '');

// A well-formed hash to verify against when the username does not exist, so both cases take as long.
let dummyHash: Promise<string> | undefined;
const timingDummy = () => (dummyHash ??= hashPassword(newSecret()));

const wrongCredentials = (attemptsLeft: number) =>
  new DomainError({
    code: 'LOGIN_FAILED',
    messageZh: `用户名或密码不正确（从此地址再错 ${attemptsLeft} 次将暂停登录 15 分钟）`,
    messageEn: `Wrong username or password (${attemptsLeft} more failures from this address pause logins for 15 minutes)`,
    httpStatus: 401,
    field: F.password,
  });

export interface LoginResult {
  sessionId: string;
  session: WebSession;
  actor: Actor;
}

/**
 * Checks a username and password; on success opens a new session (a new id: no fixation). A throttled
 * username or source is refused before the password is looked at.
 */
export async function login(db: Db, body: unknown, meta: { userAgent?: string; ip?: string } = {}, now = new Date()): Promise<LoginResult> {
  const b = (body ?? {}) as Record<string, unknown>;
  const username = normaliseUsername(b.username);
  const password = typeof b.password === 'string' ? b.password : '';
  const v = new ValidationCollector();
  if (!username) v.add(requiredField(F.username));
  if (!password) v.add(requiredField(F.password));
  v.throwIfAny();

  await assertNotThrottled(db, username, meta.ip, now);

  const user = await db('users').whereRaw('lower(username) = ?', [username]).whereNull('disabled_at').first('id', 'username', 'display_name', 'role', 'district_code', 'maker_id', 'holder_id', 'password_hash');
  const ok = user?.password_hash ? await verifyPassword(user.password_hash, password) : (await verifyPassword(await timingDummy(), password), false);
  if (!ok) {
    const f = await registerLoginFailure(db, username, meta.ip, now);
    if (f.lock) throw f.lock;
    throw wrongCredentials(f.left);
  }
  await registerLoginSuccess(db, username, meta.ip, now);
  if (needsRehash(user.password_hash)) await db('users').where({ id: user.id }).update({ password_hash: await hashPassword(password) });
  await db('web_sessions').where({ user_id: user.id }).where('expires_at', '<', now).delete();
  const { sessionId, session } = await openSession(db, user, meta, now);
  return { sessionId, session, actor: toActor(user) };
}

async function openSession(db: Db, user: { id: string; display_name: string }, meta: { userAgent?: string; ip?: string }, now: Date) {
  const sessionId = newSecret();
  const row = {
    id_sha256: sha256Hex(sessionId),
    user_id: user.id,
    csrf_token: newSecret(),
    created_at: now,
    last_seen_at: now,
    expires_at: new Date(now.getTime() + SESSION_ABSOLUTE_MS),
    user_agent: meta.userAgent?.slice(0, 300) ?? null,
    ip: meta.ip?.slice(0, 64) ?? null,
  };
  await db('web_sessions').insert(row);
  return { sessionId, session: { idSha256: row.id_sha256, csrfToken: row.csrf_token, userId: user.id, displayName: user.display_name, expiresAt: row.expires_at } };
}

const toActor = (u: { id: string; username: string; role: Role; district_code: string | null; maker_id: string | null; holder_id: string | null }): Actor => ({
  userId: u.id,
  username: u.username,
  role: u.role,
  districtCode: u.district_code,
  makerId: u.maker_id,
  holderId: u.holder_id,
});

/** The session of a cookie value, or null (unknown, expired, idle too long). */
export async function findSession(db: Db, sessionId: string, now = new Date()): Promise<{ session: WebSession; actor: Actor } | null> {
  if (!SESSION_ID.test(sessionId)) return null;
  const idSha256 = sha256Hex(sessionId);
  const row = await db('web_sessions as s')
    .join('users as u', 'u.id', 's.user_id')
    .where('s.id_sha256', idSha256)
    .whereNull('u.disabled_at')
    .first('s.csrf_token', 's.expires_at', 's.last_seen_at', 'u.id', 'u.username', 'u.display_name', 'u.role', 'u.district_code', 'u.maker_id', 'u.holder_id');
  if (!row) return null;
  const lastSeen = new Date(row.last_seen_at).getTime();
  if (new Date(row.expires_at) <= now || now.getTime() - lastSeen > SESSION_IDLE_MS) {
    await db('web_sessions').where({ id_sha256: idSha256 }).delete();
    return null;
  }
  if (now.getTime() - lastSeen > TOUCH_EVERY_MS) await db('web_sessions').where({ id_sha256: idSha256 }).update({ last_seen_at: now });
  return {
    session: { idSha256, csrfToken: row.csrf_token, userId: row.id, displayName: row.display_name, expiresAt: new Date(row.expires_at) },
    actor: toActor(row),
  };
}

export async function logout(db: Db, session: Pick<WebSession, 'idSha256'>): Promise<void> {
  await db('web_sessions').where({ id_sha256: session.idSha256 }).delete();
}

/** Login passwords: 10 to 128 characters, letters and digits, not the username. */
export function assertLoginPasswordPolicy(password: unknown, username: string, field = F.next): string {
  if (typeof password !== 'string' || password === '') throw requiredField(field);
  const p = password.normalize('NFC');
  if ([...p].length < 10) throw invalidField(field, '至少 10 个字符', 'must be at least 10 characters', { code: 'PASSWORD_TOO_SHORT' });
  if ([...p].length > 128) throw invalidField(field, '不能超过 128 个字符', 'must be at most 128 characters', { code: 'PASSWORD_TOO_LONG' });
  if (!/\p{L}/u.test(p) || !/\p{N}/u.test(p)) throw invalidField(field, '应同时包含字母和数字', 'must contain both letters and digits', { code: 'PASSWORD_TOO_SIMPLE' });
  if (username && p.toLowerCase().includes(username.toLowerCase())) throw invalidField(field, '不能包含用户名', 'must not contain the username', { code: 'PASSWORD_CONTAINS_USERNAME' });
  return p;
}

/**
 * The user changes their own password with the current one. Every other session of the user ends; the
 * current one is replaced by a new session (new id and CSRF token), which is returned.
 */
export async function changeLoginPassword(db: Db, actor: Actor, session: WebSession, body: unknown, meta: { userAgent?: string; ip?: string } = {}, now = new Date()) {
  const b = (body ?? {}) as Record<string, unknown>;
  const v = new ValidationCollector();
  if (typeof b.current_password !== 'string' || b.current_password === '') v.add(requiredField(F.current));
  const next = v.check(() => assertLoginPasswordPolicy(b.new_password, actor.username));
  if (next !== undefined && b.confirm_password !== b.new_password) v.add(invalidField(F.confirm, '与新密码不一致', 'does not match the new password', { code: 'PASSWORD_MISMATCH' }));
  v.throwIfAny();
  const throttleKey = normaliseUsername(actor.username);
  await assertNotThrottled(db, throttleKey, meta.ip, now);
  const user = await db('users').where({ id: actor.userId }).first('id', 'display_name', 'password_hash');
  if (!user?.password_hash || !(await verifyPassword(user.password_hash, b.current_password as string))) {
    const f = await registerLoginFailure(db, throttleKey, meta.ip, now);
    if (f.lock) throw f.lock;
    throw invalidField(F.current, `不正确（再错 ${f.left} 次将暂停 15 分钟）`, `is wrong (${f.left} more failures pause it for 15 minutes)`, { code: 'WRONG_PASSWORD', httpStatus: 400 });
  }
  if (await verifyPassword(user.password_hash, next!)) throw invalidField(F.next, '不能与当前密码相同', 'must differ from the current password', { code: 'PASSWORD_REUSED' });
  const hash = await hashPassword(next!);
  return db.transaction(async (trx) => {
    await trx('users').where({ id: actor.userId }).update({ password_hash: hash, password_changed_at: now });
    await trx('web_sessions').where({ user_id: actor.userId }).delete();
    return openSession(trx as unknown as Db, user, meta, now);
  });
}

/** Sets a user's password (demo seeding, administrators, tests). */
export async function setLoginPassword(db: Db, userId: string, password: string, now = new Date()): Promise<void> {
  await db('users').where({ id: userId }).update({ password_hash: await hashPassword(password), password_changed_at: now });
  await db('web_sessions').where({ user_id: userId }).delete();
}
