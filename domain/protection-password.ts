/**
 * A seal's protection password 印章保护口令 (C1–C3, U1). Pure: no I/O, no Node built-ins, no clock — every
 * function takes the instant it works from, so the seal's workflow can use the expiry and reminder
 * arithmetic too.
 *
 * Policy (what a Beijing public-security seal office expects of a password that guards a seal):
 *   - at least 10 characters (code points, after NFC), at most 128;
 *   - at least three of four character classes (upper-case, lower-case, digits, symbols — any other
 *     character, Chinese included, counts as a symbol), unless it is a passphrase of 16 characters or more;
 *   - none of the identifiers printed on the seal's papers: the keeper's resident ID number (nor its birth
 *     date or its last six characters, the classic choice), the seal code, the holder's USCC (nor its
 *     9-character organisation code) — compared case-insensitively, full-width folded, separators ignored;
 *   - not trivial: not a short unit repeated (Ab1!Ab1!Ab1!), not fewer than 5 distinct characters, and no run
 *     of 4 identical or consecutive characters (aaaa, 1234, dcba) nor of 5 along a keyboard row (qwert).
 * Errors never repeat any part of the password (they end up in responses and logs).
 *
 * Lockout: after 5 consecutive wrong passwords the seal's password is locked for 15 minutes; each further
 * 5 consecutive failures (the counter is reset only by a correct password) double the lock, up to 24 hours.
 * A locked password is not even checked, so guesses during a lock neither count nor tell anything.
 */
import { DomainError, fieldRef, invalidField, ValidationCollector, type FieldRef } from './errors';
import { addIsoDuration, formatShanghai, MS_PER_DAY, MS_PER_MINUTE, MS_PER_HOUR, type IsoDuration } from './calendar';
import { SEAL_STATUS_LABELS, type SealStatus } from './seals';

export const PASSWORD_FIELD: FieldRef = fieldRef('password', '保护口令', 'Protection password');

export const PASSWORD_POLICY = {
  minLength: 10,
  maxLength: 128,
  minClasses: 3,
  /** A passphrase this long needs no particular character classes. */
  passphraseLength: 16,
  minDistinct: 5,
  /** Runs of identical or alphabetically / numerically consecutive characters. */
  maxRun: 3,
  /** Runs along a keyboard row. */
  maxKeyboardRun: 4,
} as const;

export const LOCKOUT_POLICY = {
  maxFailedAttempts: 5,
  lockMs: 15 * MS_PER_MINUTE,
  /** Repeated lockouts double the lock, up to this. */
  maxLockMs: 24 * MS_PER_HOUR,
} as const;

/** Days before expiry at which keepers are reminded (C2). */
export const DEFAULT_REMINDER_DAYS: readonly number[] = [14, 7, 1];

/** What the password must not contain; absent identifiers (a seal in production has no code yet) are skipped. */
/**
 * C3: the SMS code of the reset page. Six digits; every wrong code (or wrong ID number) counts, and the 5th
 * locks the approved reset for good: the holder applies again at the police office.
 */
export const RESET_CODE_POLICY = { digits: 6, maxFailedAttempts: 5 } as const;

/** After one more wrong code or ID number: how many remain, and whether this one locked the reset. */
export function registerWrongResetProof(failedAttempts: number): { failedAttempts: number; locked: boolean; attemptsLeft: number } {
  const n = failedAttempts + 1;
  return { failedAttempts: n, locked: n >= RESET_CODE_POLICY.maxFailedAttempts, attemptsLeft: Math.max(0, RESET_CODE_POLICY.maxFailedAttempts - n) };
}

export interface PasswordContext {
  keeperIdNumber?: string | null;
  sealCode?: string | null;
  holderUscc?: string | null;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

/** The form in which a password is checked, hashed and verified: Unicode NFC, nothing trimmed. */
export function normalisePassword(password: string): string {
  return password.normalize('NFC');
}

/** Case-folded, full-width folded (NFKC), for comparisons with identifiers only. */
const fold = (s: string) => s.normalize('NFKC').toLowerCase();
const alnumOnly = (s: string) => s.replace(/[^\p{L}\p{N}]/gu, '');

function characterClasses(p: string): number {
  let upper = false;
  let lower = false;
  let digit = false;
  let other = false;
  for (const ch of p) {
    if (/\p{Lu}/u.test(ch)) upper = true;
    else if (/\p{Ll}/u.test(ch)) lower = true;
    else if (/\p{Nd}/u.test(ch)) digit = true;
    else other = true;
  }
  return [upper, lower, digit, other].filter(Boolean).length;
}

const KEYBOARD_ROWS = ['`1234567890-=', 'qwertyuiop[]\\', "asdfghjkl;'", 'zxcvbnm,./', '~!@#$%^&*()_+', 'qwertyuiop{}|', 'asdfghjkl:"', 'zxcvbnm<>?'];

/** Longest run of identical or consecutive (±1 code point) characters, case-folded. */
export function longestSequenceRun(password: string): number {
  const cps = [...fold(password)].map((c) => c.codePointAt(0)!);
  let best = cps.length === 0 ? 0 : 1;
  for (const step of [0, 1, -1]) {
    let run = 1;
    for (let i = 1; i < cps.length; i++) {
      run = cps[i]! - cps[i - 1]! === step ? run + 1 : 1;
      best = Math.max(best, run);
    }
  }
  return best;
}

/** Longest run along a keyboard row, forwards or backwards (qwert, trewq, asdfg, !@#$%), case-folded. */
export function longestKeyboardRun(password: string): number {
  const chars = [...fold(password)];
  let best = 0;
  for (const row of KEYBOARD_ROWS) {
    for (const line of [row, [...row].reverse().join('')]) {
      let run = 0;
      for (let i = 0; i < chars.length; i++) {
        const prev = i > 0 ? line.indexOf(chars[i - 1]!) : -1;
        const here = line.indexOf(chars[i]!);
        run = here >= 0 && prev >= 0 && here === prev + 1 ? run + 1 : here >= 0 ? 1 : 0;
        best = Math.max(best, run);
      }
    }
  }
  return best;
}

/** True when the whole password is a shorter unit repeated (abcabcabca, Ab1!Ab1!Ab1!), case-folded. */
export function isRepetition(password: string): boolean {
  const chars = [...fold(password)];
  for (let unit = 1; unit <= chars.length / 2; unit++) {
    if (chars.every((c, i) => c === chars[i % unit])) return true;
  }
  return false;
}

export function isTrivialPassword(password: string): boolean {
  const p = normalisePassword(password);
  return (
    isRepetition(p) ||
    new Set([...fold(p)]).size < PASSWORD_POLICY.minDistinct ||
    longestSequenceRun(p) > PASSWORD_POLICY.maxRun ||
    longestKeyboardRun(p) > PASSWORD_POLICY.maxKeyboardRun
  );
}

function identifierViolations(p: string, ctx: PasswordContext, field: FieldRef): DomainError[] {
  const haystacks = [fold(p), alnumOnly(fold(p))];
  const contains = (needles: (string | null | undefined)[]) =>
    needles.some((n) => n && n.length >= 6 && haystacks.some((h) => h.includes(fold(alnumOnly(n)))));
  const out: DomainError[] = [];
  const id = ctx.keeperIdNumber ? alnumOnly(fold(ctx.keeperIdNumber)) : '';
  if (id && contains([id, id.length === 18 ? id.slice(6, 14) : null, id.slice(-6)])) {
    out.push(
      invalidField(field, '不能包含保管人的公民身份号码（及其中的出生日期或后六位）', "must not contain the keeper's resident ID number (nor its birth date or last six characters)", {
        code: 'PASSWORD_CONTAINS_ID_NUMBER',
      }),
    );
  }
  if (ctx.sealCode && contains([ctx.sealCode])) {
    out.push(invalidField(field, '不能包含印章编码', 'must not contain the seal code', { code: 'PASSWORD_CONTAINS_SEAL_CODE' }));
  }
  const uscc = ctx.holderUscc ? alnumOnly(fold(ctx.holderUscc)) : '';
  if (uscc && contains([uscc, uscc.length === 18 ? uscc.slice(8, 17) : null])) {
    out.push(
      invalidField(field, '不能包含单位的统一社会信用代码（及其中的组织机构代码）', "must not contain the holder's unified social credit code (nor its organisation code)", {
        code: 'PASSWORD_CONTAINS_USCC',
      }),
    );
  }
  return out;
}

/** Every way the password fails the policy (empty when it passes), each a DomainError naming the field. */
export function passwordPolicyViolations(password: unknown, ctx: PasswordContext = {}, field: FieldRef = PASSWORD_FIELD): DomainError[] {
  if (password === undefined || password === null || password === '') {
    return [invalidField(field, '必须填写', 'is required', { code: 'REQUIRED_FIELD' })];
  }
  if (typeof password !== 'string') return [invalidField(field, '应为文字', 'must be text', { code: 'PASSWORD_FORMAT' })];
  const p = normalisePassword(password);
  const length = [...p].length;
  const out: DomainError[] = [];
  if (CONTROL_CHARS.test(p)) {
    out.push(invalidField(field, '不能含有控制字符或方向控制符', 'must not contain control or bidirectional-override characters', { code: 'PASSWORD_CONTROL_CHARS' }));
  }
  if (length < PASSWORD_POLICY.minLength) {
    out.push(
      invalidField(field, `长度不能少于${PASSWORD_POLICY.minLength}个字符`, `must be at least ${PASSWORD_POLICY.minLength} characters long`, {
        code: 'PASSWORD_TOO_SHORT',
        details: { minLength: PASSWORD_POLICY.minLength },
      }),
    );
  }
  if (length > PASSWORD_POLICY.maxLength) {
    out.push(
      invalidField(field, `不能超过${PASSWORD_POLICY.maxLength}个字符`, `must be at most ${PASSWORD_POLICY.maxLength} characters long`, {
        code: 'PASSWORD_TOO_LONG',
        details: { maxLength: PASSWORD_POLICY.maxLength },
      }),
    );
  }
  if (length < PASSWORD_POLICY.passphraseLength && characterClasses(p) < PASSWORD_POLICY.minClasses) {
    out.push(
      invalidField(
        field,
        `应至少包含大写字母、小写字母、数字、符号中的三类（或长度不少于${PASSWORD_POLICY.passphraseLength}个字符）`,
        `must contain at least three of upper-case letters, lower-case letters, digits and symbols (or be at least ${PASSWORD_POLICY.passphraseLength} characters long)`,
        { code: 'PASSWORD_CHARACTER_CLASSES' },
      ),
    );
  }
  out.push(...identifierViolations(p, ctx, field));
  if (length > 0 && isTrivialPassword(p)) {
    out.push(
      invalidField(
        field,
        '过于简单：不能是重复的片段，不能少于5种不同字符，不能含有4个及以上相同或连续的字符（如 aaaa、1234、dcba）或键盘上连续的5个字符（如 qwert）',
        'is too simple: no repeated pattern, at least 5 different characters, and no run of 4 identical or consecutive characters (aaaa, 1234, dcba) or of 5 neighbouring keys (qwert)',
        { code: 'PASSWORD_TRIVIAL' },
      ),
    );
  }
  return out;
}

/**
 * Checks the policy and returns the password as it is to be hashed (NFC). Throws the single DomainError, or
 * a ValidationErrors with every violation, each naming the field (`password` by default).
 */
export function assertPasswordPolicy(password: unknown, ctx: PasswordContext = {}, field: FieldRef = PASSWORD_FIELD): string {
  const v = new ValidationCollector();
  for (const e of passwordPolicyViolations(password, ctx, field)) v.add(e);
  v.throwIfAny();
  return normalisePassword(password as string);
}

// ---------------------------------------------------------------------------------------------------------
// Expiry and reminders (C2)

/**
 * When a password set at `setAt` expires: `expiry` is a number of days (fixed 24-hour days) or an ISO 8601
 * duration (P90D; P3M on the Shanghai calendar).
 */
export function passwordExpiresAt(setAt: Date, expiry: number | string | IsoDuration): Date {
  if (typeof expiry === 'number') {
    if (!(expiry > 0) || !Number.isFinite(expiry)) throw new RangeError('password expiry must be a positive number of days');
    return new Date(setAt.getTime() + expiry * MS_PER_DAY);
  }
  const at = addIsoDuration(setAt, expiry);
  if (at.getTime() <= setAt.getTime()) throw new RangeError('password expiry must be a positive duration');
  return at;
}

export interface ReminderInstant {
  /** When to remind the keepers. */
  readonly at: Date;
  /** How many days before expiry that is. */
  readonly daysBefore: number;
}

/**
 * The instants at which keepers are reminded that the password expires at `expiresAt`, earliest first (14, 7
 * and 1 day before by default; duplicates removed). With `notBefore`, reminders before it are left out (a
 * password set 10 days before its expiry gets the 7-day and 1-day reminders only).
 */
export function reminderInstants(expiresAt: Date, daysBefore: readonly number[] = DEFAULT_REMINDER_DAYS, notBefore?: Date): ReminderInstant[] {
  const days = [...new Set(daysBefore)];
  if (days.some((d) => !(d > 0) || !Number.isFinite(d))) throw new RangeError('reminder days must be positive numbers');
  return days
    .sort((a, b) => b - a)
    .map((d) => ({ at: new Date(expiresAt.getTime() - d * MS_PER_DAY), daysBefore: d }))
    .filter((r) => notBefore === undefined || r.at.getTime() >= notBefore.getTime());
}

export function isPasswordExpired(expiresAt: Date, now: Date): boolean {
  return now.getTime() >= expiresAt.getTime();
}

// ---------------------------------------------------------------------------------------------------------
// Lockout

export interface PasswordAttemptState {
  /** Consecutive wrong passwords since the last correct one (not reset by a lock). */
  readonly failedAttempts: number;
  readonly lockedUntil: Date | null;
}

export function isLocked(lockedUntil: Date | null | undefined, now: Date): boolean {
  return !!lockedUntil && now.getTime() < lockedUntil.getTime();
}

/** Length of the n-th consecutive lock (1 → 15 min, 2 → 30 min, 3 → 1 h, … at most 24 h). */
export function lockDurationMs(lockNumber: number): number {
  if (!Number.isInteger(lockNumber) || lockNumber < 1) throw new RangeError('lockNumber starts at 1');
  const ms = LOCKOUT_POLICY.lockMs * 2 ** Math.min(lockNumber - 1, 30);
  return Math.min(ms, LOCKOUT_POLICY.maxLockMs);
}

/** Wrong passwords still allowed before the next lock. */
export function attemptsBeforeLock(failedAttempts: number): number {
  return LOCKOUT_POLICY.maxFailedAttempts - (failedAttempts % LOCKOUT_POLICY.maxFailedAttempts);
}

/**
 * The state after a wrong password at `now`. Every 5th consecutive failure locks (15 min, then doubling).
 * Callers do not check passwords while locked, so a failure is never registered during a lock.
 */
export function registerFailedAttempt(state: PasswordAttemptState, now: Date): PasswordAttemptState & { lockedNow: boolean; attemptsLeft: number } {
  const failedAttempts = state.failedAttempts + 1;
  if (failedAttempts % LOCKOUT_POLICY.maxFailedAttempts === 0) {
    const lockNumber = failedAttempts / LOCKOUT_POLICY.maxFailedAttempts;
    return { failedAttempts, lockedUntil: new Date(now.getTime() + lockDurationMs(lockNumber)), lockedNow: true, attemptsLeft: 0 };
  }
  return { failedAttempts, lockedUntil: state.lockedUntil, lockedNow: false, attemptsLeft: attemptsBeforeLock(failedAttempts) };
}

/** A correct password clears the counter and any lock. */
export function registerSuccessfulAttempt(): PasswordAttemptState {
  return { failedAttempts: 0, lockedUntil: null };
}

// ---------------------------------------------------------------------------------------------------------
// May this keeper sign with this seal now? (C1, C2, U1)

export type MaySignRefusal = 'not_live' | 'not_keeper' | 'no_password' | 'password_expired' | 'locked';

export type MaySignResult = { allowed: true } | { allowed: false; reason: MaySignRefusal; zh: string; en: string };

export interface MaySignInput {
  sealStatus: SealStatus | string;
  isKeeper: boolean;
  password: { expiresAt: Date; lockedUntil: Date | null } | null;
  now: Date;
}

/**
 * The internal check before any signature, in this order: the seal is live (status `active`; suspended,
 * stopped, cancelled or not yet issued seals cannot sign, U1); the person is one of its keepers (C1); it has
 * a protection password; the password is not locked; it has not expired (C2). The password itself is
 * verified by the caller (it needs the hash); this decides on the state.
 */
export function maySign(input: MaySignInput): MaySignResult {
  const { sealStatus, isKeeper, password, now } = input;
  if (sealStatus !== 'active') {
    const label = SEAL_STATUS_LABELS[sealStatus as SealStatus] ?? { zh: sealStatus, en: sealStatus };
    return {
      allowed: false,
      reason: 'not_live',
      zh: `印章状态为“${label.zh}”，不能签章；只有已发放在用的印章可以签章（U1）`,
      en: `The seal is ${label.en.toLowerCase()}; only an active seal can sign (U1)`,
    };
  }
  if (!isKeeper) {
    return { allowed: false, reason: 'not_keeper', zh: '该人员不是此印章的保管人，不能使用此印章（C1）', en: 'This person is not a keeper of this seal and may not use it (C1)' };
  }
  if (!password) {
    return { allowed: false, reason: 'no_password', zh: '此印章尚未设置保护口令，请保管人先设置口令（C2）', en: 'This seal has no protection password yet; a keeper must set one first (C2)' };
  }
  if (isLocked(password.lockedUntil, now)) {
    const until = formatShanghai(password.lockedUntil!);
    return {
      allowed: false,
      reason: 'locked',
      zh: `保护口令连续输错次数过多，已锁定至 ${until}`,
      en: `Too many wrong protection passwords; locked until ${until}`,
    };
  }
  if (isPasswordExpired(password.expiresAt, now)) {
    const at = formatShanghai(password.expiresAt);
    return {
      allowed: false,
      reason: 'password_expired',
      zh: `保护口令已于 ${at} 过期，请保管人先修改口令（C2）`,
      en: `The protection password expired at ${at}; a keeper must change it first (C2)`,
    };
  }
  return { allowed: true };
}

/** A refusal as a DomainError (HTTP 403 for who/what, 423 for a lock, 409 for a missing or expired password). */
export function maySignError(result: Extract<MaySignResult, { allowed: false }>): DomainError {
  const status: Record<MaySignRefusal, number> = { not_live: 409, not_keeper: 403, no_password: 409, password_expired: 409, locked: 423 };
  return new DomainError({ code: `SIGN_${result.reason.toUpperCase()}`, messageZh: result.zh, messageEn: result.en, httpStatus: status[result.reason] });
}
