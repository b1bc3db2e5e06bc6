/**
 * Citizen identity number 公民身份号码 (GB 11643-1999), 18 characters, identifying persons (S2): legal
 * representatives, operators, handlers, holders of personal name seals.
 *
 *   [0..5]   address (administrative division) code, GB/T 2260
 *   [6..13]  birth date YYYYMMDD (must be a real calendar date)
 *   [14..16] sequence code; the last of these digits is odd for men, even for women
 *   [17]     check character: Σ digit(i)·weight(i) mod 11 → "10X98765432"
 *
 * The old 15-digit numbers were replaced nationwide by 2013 and are rejected with a dedicated message.
 */
import { FIELDS, type FieldRef, invalidField, requiredField } from './errors';
import { normaliseCodeInput } from './uscc';

export const RESIDENT_ID_WEIGHTS: readonly number[] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
export const RESIDENT_ID_CHECK_CHARS = '10X98765432';

/**
 * GB/T 2260 province-level prefixes. 83 is used by residence permits for Taiwan residents; 81/82 for Hong
 * Kong and Macao residents.
 */
export const PROVINCE_PREFIXES: ReadonlySet<string> = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37', '41', '42', '43',
  '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82', '83',
]);

export type Sex = 'male' | 'female';

export interface ResidentIdParts {
  /** The normalised 18-character number (a trailing x is upper-cased). */
  readonly id: string;
  /** 6-digit GB/T 2260 code of the place of first registration (e.g. 110105 朝阳区). */
  readonly divisionCode: string;
  /** Birth date 'YYYY-MM-DD'. */
  readonly birthDate: string;
  readonly sex: Sex;
  readonly sequenceCode: string;
  readonly checkCharacter: string;
}

export function computeResidentIdCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError('computeResidentIdCheckCharacter needs exactly 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * RESIDENT_ID_WEIGHTS[i]!;
  return RESIDENT_ID_CHECK_CHARS[sum % 11]!;
}

export interface ResidentIdParseOptions {
  /** The field to name in errors; defaults to {@link FIELDS.residentId}. */
  field?: FieldRef;
  /**
   * If given, a birth date after this instant's UTC+8 calendar date is rejected. (Pass the instant in: domain
   * code never reads the clock.)
   */
  asOf?: Date;
}

function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const dim = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= dim;
}

/** Parse and verify an 18-digit resident ID number. Throws a DomainError (HTTP 400) naming the field. */
export function parseResidentId(input: unknown, opts: ResidentIdParseOptions = {}): ResidentIdParts {
  const field = opts.field ?? FIELDS.residentId;
  if (input === undefined || input === null || (typeof input === 'string' && input.trim() === '')) {
    throw requiredField(field);
  }
  if (typeof input !== 'string') {
    throw invalidField(field, '必须是文本', 'must be a string', { code: 'RESIDENT_ID_FORMAT' });
  }
  const id = normaliseCodeInput(input);
  if (/^\d{15}$/.test(id)) {
    throw invalidField(
      field,
      '15位旧身份证号码已停止使用，请填写18位公民身份号码',
      'the old 15-digit number is no longer valid; enter the 18-character number',
      { code: 'RESIDENT_ID_LEGACY' },
    );
  }
  if (id.length !== 18) {
    throw invalidField(field, `应为18位，实际为${id.length}位`, `must have 18 characters, not ${id.length}`, {
      code: 'RESIDENT_ID_LENGTH',
      details: { length: id.length },
    });
  }
  if (!/^\d{17}[\dX]$/.test(id)) {
    throw invalidField(
      field,
      '前17位应为数字，第18位应为数字或X',
      'the first 17 characters must be digits and the 18th a digit or X',
      { code: 'RESIDENT_ID_CHARSET' },
    );
  }
  const divisionCode = id.slice(0, 6);
  if (!PROVINCE_PREFIXES.has(divisionCode.slice(0, 2))) {
    throw invalidField(
      field,
      `地址码“${divisionCode}”不是有效的行政区划代码`,
      `address code "${divisionCode}" is not a valid division code`,
      { code: 'RESIDENT_ID_DIVISION', details: { divisionCode } },
    );
  }
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  const birthDate = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  if (y < 1800 || !isRealDate(y, m, d)) {
    throw invalidField(
      field,
      `出生日期“${birthDate}”不是有效日期`,
      `birth date "${birthDate}" is not a real date`,
      { code: 'RESIDENT_ID_BIRTH_DATE', details: { birthDate } },
    );
  }
  if (opts.asOf !== undefined) {
    const t = opts.asOf.getTime();
    if (Number.isNaN(t)) throw new RangeError('asOf is an invalid Date');
    const today = new Date(t + 8 * 3_600_000).toISOString().slice(0, 10);
    if (birthDate > today) {
      throw invalidField(
        field,
        `出生日期“${birthDate}”晚于当前日期`,
        `birth date "${birthDate}" is in the future`,
        { code: 'RESIDENT_ID_BIRTH_DATE', details: { birthDate } },
      );
    }
  }
  const expected = computeResidentIdCheckCharacter(id.slice(0, 17));
  if (expected !== id[17]) {
    throw invalidField(
      field,
      `校验码错误（第18位应为“${expected}”，实际为“${id[17]}”），请核对是否输入有误`,
      `check character is wrong (character 18 should be "${expected}", not "${id[17]}"); please check for typing errors`,
      { code: 'RESIDENT_ID_CHECK', details: { expected, actual: id[17] } },
    );
  }
  return {
    id,
    divisionCode,
    birthDate,
    sex: Number(id[16]) % 2 === 1 ? 'male' : 'female',
    sequenceCode: id.slice(14, 17),
    checkCharacter: id[17]!,
  };
}

/**
 * Mask a resident ID for display: the 6-digit address code and the last 4 characters stay visible, the 8
 * birth-date digits are hidden: 110105********123X. Only the format is normalised, the number is not
 * verified (masking must never throw for data already stored); anything that is not 18 characters is masked
 * entirely except its last 4 characters.
 */
export function maskResidentId(input: string): string {
  const id = normaliseCodeInput(input);
  if (id.length === 18) return `${id.slice(0, 6)}********${id.slice(14)}`;
  if (id.length <= 4) return '*'.repeat(id.length);
  return '*'.repeat(id.length - 4) + id.slice(-4);
}
