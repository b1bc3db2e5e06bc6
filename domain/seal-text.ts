/**
 * The text of a seal and the names it is made from (S1, S3, A2, M2): one rule for intake, the imprint and the
 * certificate, so a name the API accepts is one the imprint draws and the certificate holds.
 *
 * - Registered names (holder names, branch and department names) use what registered names use in China:
 *   Chinese characters, Latin letters, digits (half- or full-width), half- or full-width round brackets and
 *   the middle dot, hyphen and enumeration comma. Nothing else: no emoji, no markup, no spaces.
 * - Person names (handler, legal representative, personal name seal): Chinese characters, the middle dot of
 *   transliterated and minority names (买买提·艾力), and Latin letters with single spaces for foreign persons.
 * - Chinese characters are those the imprint font (Noto Serif CJK SC, Debian's fonts-noto-cjk) draws in full:
 *   CJK Unified Ideographs U+4E00–U+9FEA, Extension A U+3400–U+4DB5 and 〇. A rarer character (Extension B
 *   and later) is refused with its code point, so the maker knows which one; test/unit/seal-text.test.ts
 *   reads the font's own character map and checks every character allowed here is in it.
 * - Lengths: a holder's or branch's name runs along the ring (condensed and smaller from 25 characters, as
 *   carvers do) up to 40 characters; a department's name stands below the star in one line up to 12
 *   characters and in two lines up to 24; a personal seal holds up to 16. 40 characters also keep the
 *   certificate's subject within X.509's upper bound of 64 characters for O and CN (RFC 5280).
 */
import { type FieldRef, fieldRef, invalidField, requiredField } from './errors';

export const SEAL_TEXT_LIMITS = {
  /** 单位名称 (also the branch's name on a branch seal): the upper arc of the ring. */
  holderName: 40,
  /** 内设机构名称: below the star, one line up to {@link DEPARTMENT_LINE_MAX_CHARS}, else two. */
  departmentName: 24,
  /** 个人名章: the name in columns. */
  personName: 16,
  /** 经办人、法定代表人: person names that are not drawn (kept to a sane length). */
  otherPersonName: 50,
} as const;

export const DEPARTMENT_LINE_MAX_CHARS = 12;

/** RFC 5280 ub-organization-name and ub-common-name. */
export const X509_NAME_MAX_CHARS = 64;

const IDEOGRAPH_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x3400, 0x4db5],
  [0x4e00, 0x9fea],
  [0x3007, 0x3007],
];

/** True for a Chinese character the imprint font draws. */
export function isDrawableIdeograph(cp: number): boolean {
  return IDEOGRAPH_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi);
}

const LATIN_OR_DIGIT = /^[A-Za-z0-9\uFF21-\uFF3A\uFF41-\uFF5A\uFF10-\uFF19]$/u;
const NAME_PUNCTUATION = new Set(['(', ')', '（', '）', '·', '-', '、']);

export type NameKind = 'registered' | 'person';

/** Every character a name of this kind may contain (for the unit test against the font). */
export function isAllowedNameChar(ch: string, kind: NameKind): boolean {
  const cp = ch.codePointAt(0)!;
  if (isDrawableIdeograph(cp)) return true;
  if (kind === 'registered') return LATIN_OR_DIGIT.test(ch) || NAME_PUNCTUATION.has(ch);
  return /^[A-Za-z·]$/.test(ch) || ch === ' ';
}

function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why a character is refused, in both languages. */
function refusalReason(ch: string, kind: NameKind): { zh: string; en: string } {
  const cp = ch.codePointAt(0)!;
  if (/\p{Extended_Pictographic}|\p{Emoji_Presentation}/u.test(ch)) return { zh: '表情符号不能刻制', en: 'an emoji cannot be carved on a seal' };
  if (/\p{Script=Han}/u.test(ch) && !isDrawableIdeograph(cp)) return { zh: '印模字库无此字，无法刻制', en: 'the imprint font cannot draw this character' };
  return kind === 'registered'
    ? { zh: '登记名称只能使用汉字、字母、数字、括号及“·”“-”“、”', en: 'registered names use only Chinese characters, letters, digits, brackets and "·", "-", "、"' }
    : { zh: '姓名只能使用汉字、字母和“·”', en: 'names use only Chinese characters, letters and "·"' };
}

/** Shows a character in a message: printable ones as they are, anything else by its code point only. */
function shown(ch: string): { zh: string; en: string } {
  const printable = /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch);
  return printable ? { zh: `“${ch}”（${codePoint(ch)}）`, en: `"${ch}" (${codePoint(ch)})` } : { zh: codePoint(ch), en: codePoint(ch) };
}

/**
 * A name as it will be stored, drawn and certified: NFC, trimmed, within `max` characters, every character
 * allowed for its kind. Throws a DomainError (400) naming the field and the first offending character.
 */
export function parseSealName(value: unknown, field: FieldRef, kind: NameKind, max: number): string {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) throw requiredField(field);
  if (typeof value !== 'string') throw invalidField(field, '应为文字', 'must be text');
  const v = value.normalize('NFC').trim();
  const chars = Array.from(v);
  for (const [i, ch] of chars.entries()) {
    if (isAllowedNameChar(ch, kind) && !(ch === ' ' && chars[i - 1] === ' ')) continue;
    const why = ch === ' ' ? { zh: '不能含连续空格', en: 'must not contain consecutive spaces' } : refusalReason(ch, kind);
    const s = shown(ch);
    throw invalidField(field, `第${i + 1}个字符${s.zh}不能使用：${why.zh}`, `character ${i + 1}, ${s.en}, may not be used: ${why.en}`, {
      code: 'NAME_CHARACTER_NOT_ALLOWED',
      details: { character: ch, codePoint: codePoint(ch), position: i + 1 },
    });
  }
  if (chars.length > max) {
    throw invalidField(field, `不能超过${max}个字符（现为${chars.length}个）`, `must be at most ${max} characters (it has ${chars.length})`, {
      code: 'NAME_TOO_LONG',
      details: { length: chars.length, max },
    });
  }
  return v;
}

/**
 * The certificate's organisation and common name for a seal (O = the holder's registered name, CN = name and
 * seal label). Every name the intake accepts fits; a name from before these rules that does not is refused
 * here, by the same rule, instead of making a certificate that breaks RFC 5280.
 */
export function sealCertificateNames(holderName: string, sealLabel: string): { organization: string; commonName: string } {
  const commonName = `${holderName} ${sealLabel}`;
  const longest = Math.max(Array.from(holderName).length, Array.from(commonName).length);
  if (longest > X509_NAME_MAX_CHARS) {
    throw invalidField(
      fieldRef('holder.name', '单位名称', 'Holder name'),
      `过长，证书名称不能超过${X509_NAME_MAX_CHARS}个字符`,
      `is too long for the certificate (at most ${X509_NAME_MAX_CHARS} characters with the seal's label)`,
      { code: 'NAME_TOO_LONG_FOR_CERTIFICATE', details: { length: longest, max: X509_NAME_MAX_CHARS } },
    );
  }
  return { organization: holderName, commonName };
}
