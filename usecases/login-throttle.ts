// Login throttling (P1, P3) that slows password guessing without letting anyone lock a real user out.
// Failed logins are counted in three places, each with its own lock and back-off:
//   account_source  one username from one source address: 5 failures in 15 minutes lock that pair
//   source          one source address, whatever username: 20 failures lock the address (password spraying)
//   account         one username from every source: 50 failures lock it, but only for sources it never
//                   logged in from (a distributed attack), so its own officer keeps logging in
// A lock lasts 15 minutes and doubles with each further lock (up to 24 hours); the level falls back to
// zero a day after the last lock ends. A success clears its pair and remembers the source for the account.
// IPv6 sources count by their /64 prefix (one host usually holds a whole /64).
import { isIP } from 'node:net';
import type { Db } from '../infra/db';
import { DomainError, fieldRef } from '../domain/errors';
import { formatShanghai } from '../domain/calendar';

export const THROTTLE_WINDOW_MS = 15 * 60_000;
export const BASE_LOCK_MS = 15 * 60_000;
export const MAX_LOCK_MS = 24 * 3600_000;
export const KNOWN_SOURCE_DAYS = 90;
export const LIMITS = { account_source: 5, source: 20, account: 50 } as const;
type Scope = keyof typeof LIMITS;

const PASSWORD = fieldRef('password', '密码', 'Password');

/** The address a failure is counted under: IPv4 as is, IPv6 by its /64, anything else as 'unknown'. */
export function sourceOf(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] ?? ip;
  if (isIP(v4) === 4) return v4;
  if (isIP(ip) !== 6) return 'unknown';
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

const keys = (username: string, source: string): Array<[Scope, string]> => [
  ['account_source', `${username} ${source}`],
  ['source', source],
  ['account', username],
];

export function lockedError(until: Date, scope: Scope) {
  const at = formatShanghai(until).slice(11, 16);
  const which =
    scope === 'account_source'
      ? { zh: '该用户名从您的地址登录失败次数过多', en: 'Too many failed logins for this username from your address' }
      : scope === 'source'
        ? { zh: '您的地址登录失败次数过多', en: 'Too many failed logins from your address' }
        : { zh: '该用户名登录失败次数过多，新地址暂不能登录', en: 'Too many failed logins for this username; new addresses cannot log in for now' };
  return new DomainError({
    code: 'LOGIN_LOCKED',
    messageZh: `${which.zh}，已锁定至 ${at}（北京时间），请稍后再试`,
    messageEn: `${which.en}; locked until ${at} (Beijing time). Try again later`,
    httpStatus: 429,
    field: PASSWORD,
    details: { locked_until: until.toISOString(), scope },
  });
}

/** Refuses (429) when a lock applies to this username from this source; before the password is looked at. */
export async function assertNotThrottled(db: Db, username: string, ip: string | undefined, now: Date): Promise<void> {
  const source = sourceOf(ip);
  const rows: Array<{ scope: Scope; locked_until: Date | null }> = await db('login_throttles')
    .whereIn(['scope', 'key'], keys(username, source))
    .where('locked_until', '>', now)
    .select('scope', 'locked_until');
  for (const scope of ['account_source', 'source', 'account'] as const) {
    const row = rows.find((r) => r.scope === scope);
    if (!row) continue;
    if (scope === 'account' && (await isKnownSource(db, username, source, now))) continue;
    throw lockedError(new Date(row.locked_until!), scope);
  }
}

async function isKnownSource(db: Db, username: string, source: string, now: Date): Promise<boolean> {
  const since = new Date(now.getTime() - KNOWN_SOURCE_DAYS * 86_400_000);
  return Boolean(await db('login_known_sources').where({ username, source }).where('last_success_at', '>', since).first('source'));
}

/**
 * Counts one failure in each of the three places (under their row locks, always in the same order). Returns
 * how many attempts this username has left from this source, or the lock it brought about.
 */
export async function registerLoginFailure(db: Db, username: string, ip: string | undefined, now: Date): Promise<{ left: number; lock: DomainError | null }> {
  const source = sourceOf(ip);
  const known = await isKnownSource(db, username, source, now);
  return db.transaction(async (trx) => {
    let left: number = LIMITS.account_source;
    let lock: DomainError | null = null;
    for (const [scope, key] of keys(username, source)) {
      await trx('login_throttles').insert({ scope, key, failed_count: 0, window_started_at: now }).onConflict(['scope', 'key']).ignore();
      const row = await trx('login_throttles').where({ scope, key }).forUpdate().first();
      const fresh = now.getTime() - new Date(row.window_started_at).getTime() > THROTTLE_WINDOW_MS;
      const count = (fresh ? 0 : row.failed_count) + 1;
      const update: Record<string, unknown> = { failed_count: count, window_started_at: fresh ? now : row.window_started_at };
      if (count >= LIMITS[scope]) {
        const rested = row.locked_until && now.getTime() - new Date(row.locked_until).getTime() > MAX_LOCK_MS;
        const level = rested ? 0 : row.lock_level;
        const until = new Date(now.getTime() + Math.min(MAX_LOCK_MS, BASE_LOCK_MS * 2 ** level));
        Object.assign(update, { failed_count: 0, window_started_at: now, locked_until: until, lock_level: level + 1 });
        if (!lock && !(scope === 'account' && known)) lock = lockedError(until, scope);
      }
      await trx('login_throttles').where({ scope, key }).update(update);
      if (scope === 'account_source') left = LIMITS.account_source - count;
    }
    return { left, lock };
  });
}

/** A success: this pair starts afresh and the source is remembered for the account. */
export async function registerLoginSuccess(db: Db, username: string, ip: string | undefined, now: Date): Promise<void> {
  const source = sourceOf(ip);
  await db('login_throttles').where({ scope: 'account_source', key: `${username} ${source}` }).delete();
  await db('login_known_sources').insert({ username, source, last_success_at: now }).onConflict(['username', 'source']).merge(['last_success_at']);
}
