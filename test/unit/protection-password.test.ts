// The protection password's rules (C2, U1): policy, expiry and reminders, lockout arithmetic, and the
// "may this keeper sign now?" decision.
import { readFileSync } from 'fs';
import { join } from 'path';
import { DomainError, ValidationErrors } from '../../domain/errors';
import { computeResidentIdCheckCharacter } from '../../domain/resident-id';
import { computeUsccCheckCharacter } from '../../domain/uscc';
import {
  assertPasswordPolicy,
  attemptsBeforeLock,
  isLocked,
  isTrivialPassword,
  lockDurationMs,
  LOCKOUT_POLICY,
  maySign,
  maySignError,
  normalisePassword,
  passwordExpiresAt,
  passwordPolicyViolations,
  registerFailedAttempt,
  registerSuccessfulAttempt,
  registerWrongResetProof,
  RESET_CODE_POLICY,
  reminderInstants,
  type MaySignInput,
  type PasswordAttemptState,
} from '../../domain/protection-password';

const MIN = 60_000;
const DAY = 86_400_000;
const ID17 = '11010519850612123';
const KEEPER_ID = ID17 + computeResidentIdCheckCharacter(ID17);
const USCC17 = '91110108MA01ABCD2';
const USCC = USCC17 + computeUsccCheckCharacter(USCC17);
const SEAL_CODE = '1101080371529';
const ctx = { keeperIdNumber: KEEPER_ID, sealCode: SEAL_CODE, holderUscc: USCC };
const codes = (p: unknown) => passwordPolicyViolations(p, ctx).map((e) => e.code);

describe('C2: protection password policy', () => {
  test.each(['Tiger#Lake2049x', 'Mu7!qZ_p0rT9', '北京印章Seal2049', 'blue river under the old moon', 'Property#2049', 'Zz9#kx3Lp!'])('C2: accepts %s', (p) => {
    expect(passwordPolicyViolations(p, ctx)).toEqual([]);
    expect(assertPasswordPolicy(p, ctx)).toBe(p);
  });

  test.each([
    ['Tg#2049x', 'PASSWORD_TOO_SHORT'],
    ['Tiger#20x', 'PASSWORD_TOO_SHORT'],
    ['tigerlake2049', 'PASSWORD_CHARACTER_CLASSES'],
    ['TIGER-LAKE-XQ', 'PASSWORD_CHARACTER_CLASSES'],
    [`Seal#${KEEPER_ID}`, 'PASSWORD_CONTAINS_ID_NUMBER'],
    [`Seal#${KEEPER_ID.toLowerCase()}`, 'PASSWORD_CONTAINS_ID_NUMBER'],
    ['Tiger#19850612', 'PASSWORD_CONTAINS_ID_NUMBER'],
    [`Tiger#${KEEPER_ID.slice(-6).toLowerCase()}`, 'PASSWORD_CONTAINS_ID_NUMBER'],
    [`Ab#${SEAL_CODE}`, 'PASSWORD_CONTAINS_SEAL_CODE'],
    [`Ab#${SEAL_CODE.slice(0, 7)}-${SEAL_CODE.slice(7)}`, 'PASSWORD_CONTAINS_SEAL_CODE'],
    [`Ab#${USCC.toLowerCase()}`, 'PASSWORD_CONTAINS_USCC'],
    [`Tiger#${USCC.slice(8, 17)}`, 'PASSWORD_CONTAINS_USCC'],
    ['Ab1!Ab1!Ab1!', 'PASSWORD_TRIVIAL'],
    ['Aaaa#7QxLm9', 'PASSWORD_TRIVIAL'],
    ['Tiger#1234x', 'PASSWORD_TRIVIAL'],
    ['Tiger#9876x', 'PASSWORD_TRIVIAL'],
    ['xABCD#7295q', 'PASSWORD_TRIVIAL'],
    ['Qwert#2049m', 'PASSWORD_TRIVIAL'],
    ['Tiger!@#$%2m', 'PASSWORD_TRIVIAL'],
    ['Aa1!aA1!aa11', 'PASSWORD_TRIVIAL'],
    ['Tiger\u202eLake2049', 'PASSWORD_CONTROL_CHARS'],
    ['X'.repeat(60) + 'y'.repeat(69), 'PASSWORD_TOO_LONG'],
  ])('C2: refuses %s (%s)', (p, code) => {
    expect(codes(p)).toContain(code);
  });

  test('C2: a full-width ID number is still recognised', () => {
    const fullWidth = [...KEEPER_ID].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
    expect(codes(`Seal#${fullWidth}`)).toContain('PASSWORD_CONTAINS_ID_NUMBER');
  });

  test('C2: every error names the field password, in Chinese and English, and never repeats the password', () => {
    const secret = `ab${SEAL_CODE}`;
    let err: unknown;
    try {
      assertPasswordPolicy(secret, ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationErrors);
    const v = err as ValidationErrors;
    expect(v.errors.length).toBeGreaterThanOrEqual(2);
    for (const e of v.errors) {
      expect(e.field).toBe('password');
      expect(e.messageZh).toMatch(/^保护口令：/);
      expect(e.messageEn).toMatch(/^Protection password: /);
      expect(e.httpStatus).toBe(400);
    }
    expect(JSON.stringify(v.toJSON())).not.toContain(secret);
    expect(JSON.stringify(v.toJSON())).not.toContain(SEAL_CODE);
  });

  test('C2: a single violation is thrown as that DomainError; missing or non-text input is named', () => {
    expect(() => assertPasswordPolicy('Tg#2049x', ctx)).toThrow(DomainError);
    expect(passwordPolicyViolations(undefined)[0]).toMatchObject({ field: 'password', code: 'REQUIRED_FIELD' });
    expect(passwordPolicyViolations(12345678901)[0]).toMatchObject({ field: 'password', code: 'PASSWORD_FORMAT' });
  });

  test('C2: identifiers that are not known (a seal in production has no code) are skipped', () => {
    expect(passwordPolicyViolations(`Ab#${SEAL_CODE}`, {})).toEqual([]);
  });

  test('C2: passwords are compared in NFC, so composed and decomposed input are the same password', () => {
    expect(normalisePassword('Cafe\u0301#2049xQ')).toBe('Caf\u00e9#2049xQ');
    expect(isTrivialPassword('aaaaaaaaaaaa')).toBe(true);
  });
});

describe('C2: expiry and reminders', () => {
  const setAt = new Date('2026-12-01T02:00:00Z');

  test('C2: a password set now expires after the configured days (P90D = 90 × 24 h)', () => {
    expect(passwordExpiresAt(setAt, 90).toISOString()).toBe('2027-03-01T02:00:00.000Z');
    expect(passwordExpiresAt(setAt, 'P90D').getTime()).toBe(setAt.getTime() + 90 * DAY);
    expect(passwordExpiresAt(setAt, 'P3M').toISOString()).toBe('2027-03-01T02:00:00.000Z');
    expect(() => passwordExpiresAt(setAt, 0)).toThrow(RangeError);
  });

  test('C2: keepers are reminded 14, 7 and 1 day before expiry, earliest first', () => {
    const expiresAt = passwordExpiresAt(setAt, 90);
    const r = reminderInstants(expiresAt);
    expect(r.map((x) => x.daysBefore)).toEqual([14, 7, 1]);
    expect(r.map((x) => x.at.toISOString())).toEqual(['2027-02-15T02:00:00.000Z', '2027-02-22T02:00:00.000Z', '2027-02-28T02:00:00.000Z']);
    expect(reminderInstants(expiresAt, [1, 7, 7, 30]).map((x) => x.daysBefore)).toEqual([30, 7, 1]);
  });

  test('C2: reminders already past are left out', () => {
    const expiresAt = new Date('2027-03-01T02:00:00Z');
    const now = new Date(expiresAt.getTime() - 10 * DAY);
    expect(reminderInstants(expiresAt, undefined, now).map((x) => x.daysBefore)).toEqual([7, 1]);
    expect(reminderInstants(expiresAt, undefined, expiresAt)).toEqual([]);
    expect(() => reminderInstants(expiresAt, [0])).toThrow(RangeError);
  });
});

describe('C2: lockout after 5 consecutive wrong passwords', () => {
  const t0 = new Date('2026-12-01T02:00:00Z');

  test('C2: four wrong passwords warn, the fifth locks for 15 minutes', () => {
    let s: PasswordAttemptState = registerSuccessfulAttempt();
    for (let i = 1; i <= 4; i++) {
      const next = registerFailedAttempt(s, t0);
      expect(next).toMatchObject({ failedAttempts: i, lockedUntil: null, lockedNow: false, attemptsLeft: 5 - i });
      s = next;
    }
    const locked = registerFailedAttempt(s, t0);
    expect(locked).toMatchObject({ failedAttempts: 5, lockedNow: true, attemptsLeft: 0 });
    expect(locked.lockedUntil!.getTime() - t0.getTime()).toBe(15 * MIN);
    expect(isLocked(locked.lockedUntil, new Date(t0.getTime() + 15 * MIN - 1))).toBe(true);
    expect(isLocked(locked.lockedUntil, new Date(t0.getTime() + 15 * MIN))).toBe(false);
  });

  test('C2: repeated lockouts double (15 min, 30 min, 1 h …) up to 24 hours; a correct password clears everything', () => {
    expect([1, 2, 3, 4].map(lockDurationMs)).toEqual([15 * MIN, 30 * MIN, 60 * MIN, 120 * MIN]);
    expect(lockDurationMs(50)).toBe(LOCKOUT_POLICY.maxLockMs);
    const second = registerFailedAttempt({ failedAttempts: 9, lockedUntil: new Date(t0.getTime() - MIN) }, t0);
    expect(second.lockedNow).toBe(true);
    expect(second.lockedUntil!.getTime() - t0.getTime()).toBe(30 * MIN);
    expect(attemptsBeforeLock(5)).toBe(5);
    expect(attemptsBeforeLock(7)).toBe(3);
    expect(registerSuccessfulAttempt()).toEqual({ failedAttempts: 0, lockedUntil: null });
  });
});

describe('U1 C1 C2: may this keeper sign with this seal now?', () => {
  const now = new Date('2026-12-01T02:00:00Z');
  const valid = { expiresAt: new Date(now.getTime() + DAY), lockedUntil: null };
  const base: MaySignInput = { sealStatus: 'active', isKeeper: true, password: valid, now };

  test.each<[string, Partial<MaySignInput>, string | null]>([
    ['an active seal, its keeper, a valid password', {}, null],
    ['a seal in production', { sealStatus: 'in_production' }, 'not_live'],
    ['a seal waiting to be collected', { sealStatus: 'ready' }, 'not_live'],
    ['a suspended seal', { sealStatus: 'suspended' }, 'not_live'],
    ['a stopped seal', { sealStatus: 'stopped' }, 'not_live'],
    ['a cancelled seal', { sealStatus: 'cancelled' }, 'not_live'],
    ['a cancelled seal and a stranger', { sealStatus: 'cancelled', isKeeper: false }, 'not_live'],
    ['a stranger', { isKeeper: false }, 'not_keeper'],
    ['a stranger and no password', { isKeeper: false, password: null }, 'not_keeper'],
    ['no password yet', { password: null }, 'no_password'],
    ['an expired password', { password: { expiresAt: now, lockedUntil: null } }, 'password_expired'],
    ['a locked password', { password: { ...valid, lockedUntil: new Date(now.getTime() + MIN) } }, 'locked'],
    ['a lock that has run out', { password: { ...valid, lockedUntil: new Date(now.getTime() - 1) } }, null],
    ['a locked and expired password', { password: { expiresAt: now, lockedUntil: new Date(now.getTime() + MIN) } }, 'locked'],
  ])('U1 C1 C2: %s', (_name, patch, reason) => {
    const r = maySign({ ...base, ...patch });
    if (reason === null) {
      expect(r).toEqual({ allowed: true });
    } else {
      expect(r).toMatchObject({ allowed: false, reason });
      if (r.allowed) throw new Error('unreachable');
      expect(r.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(r.en).toMatch(/[a-z]/);
      expect(maySignError(r).httpStatus).toBeGreaterThanOrEqual(403);
    }
  });

  test('U1: the refusal of a suspended seal names its status in both languages', () => {
    const r = maySign({ ...base, sealStatus: 'suspended' });
    expect(r).toMatchObject({ zh: expect.stringContaining('暂停使用'), en: expect.stringContaining('suspended') });
  });
});

test('domain/protection-password.ts is pure (no Node built-ins, no clock, no randomness)', () => {
  const src = readFileSync(join(__dirname, '..', '..', 'domain', 'protection-password.ts'), 'utf8');
  const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const imports = [...code.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
  for (const spec of imports) expect(spec).toMatch(/^\.\/[a-z-]+$/);
  expect(code).not.toMatch(/Date\.now\s*\(|new Date\(\s*\)|Math\.random|\bIntl\b|\bprocess\./);
});

test('C3: on the reset page every wrong ID number or SMS code counts, and the 5th locks the approved reset', () => {
  expect(RESET_CODE_POLICY).toEqual({ digits: 6, maxFailedAttempts: 5 });
  const seen = [0, 1, 2, 3, 4].map((n) => registerWrongResetProof(n));
  expect(seen.map((s) => s.attemptsLeft)).toEqual([4, 3, 2, 1, 0]);
  expect(seen.map((s) => s.locked)).toEqual([false, false, false, false, true]);
  expect(registerWrongResetProof(7)).toEqual({ failedAttempts: 8, locked: true, attemptsLeft: 0 });
});
