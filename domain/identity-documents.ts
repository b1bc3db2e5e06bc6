/**
 * Valid identity documents (有效身份证件, S2, A2) of legal representatives, operators, handlers, keepers and
 * holders of personal name seals, each with its own check rules:
 *
 *   resident_id                    居民身份证: GB 11643, 18 characters, MOD 11-2 check character
 *   foreign_permanent_resident_id  外国人永久居留身份证: the 2004 card, 15 characters (ISO 3166 alpha-3
 *                                  nationality, 4-digit acceptance place, YYMMDD birth date, 1 sequence digit,
 *                                  ICAO 9303 7-3-1 check digit), or the 2023 card, 18 digits ("9", 2-digit
 *                                  province, ISO 3166 numeric nationality, YYYYMMDD, 3-digit sequence,
 *                                  GB 11643 check character)
 *   hmt_residence_permit           港澳台居民居住证: GB 11643 with address code 810000 / 820000 / 830000
 *   hk_macao_travel_permit         港澳居民来往内地通行证 (card since 2013): H or M and 8 digits
 *   taiwan_travel_permit           台湾居民来往大陆通行证 (card since 2015; the booklets have all expired): 8 digits
 *   passport                       护照: ISO 3166 country (alpha-3, alpha-2 accepted) and a 5–9 character
 *                                  number (ICAO 9303 document number field); a Chinese passport is E/G + 8
 *
 * Storage and lookups use one string per document, its *identity key*: the bare number for GB 11643-form
 * numbers (resident IDs and residence permits, so every key stored before other documents existed stays valid
 * and hashes the same), `<type>:<number>` otherwise and `passport:<country>:<number>` for passports.
 */
import countries from 'i18n-iso-countries';
import { DomainError, fieldRef, invalidField, requiredField, ValidationCollector, type FieldRef } from './errors';
import { computeResidentIdCheckCharacter, maskResidentId, parseResidentId, PROVINCE_PREFIXES } from './resident-id';
import { normaliseCodeInput } from './uscc';

export const IDENTITY_DOCUMENT_TYPES = [
  'resident_id',
  'foreign_permanent_resident_id',
  'hmt_residence_permit',
  'hk_macao_travel_permit',
  'taiwan_travel_permit',
  'passport',
] as const;
export type IdentityDocumentType = (typeof IDENTITY_DOCUMENT_TYPES)[number];

export const IDENTITY_DOCUMENT_LABELS: Readonly<Record<IdentityDocumentType, { zh: string; en: string }>> = {
  resident_id: { zh: '居民身份证', en: 'resident ID card' },
  foreign_permanent_resident_id: { zh: '外国人永久居留身份证', en: "foreigner's permanent residence ID card" },
  hmt_residence_permit: { zh: '港澳台居民居住证', en: 'residence permit for Hong Kong, Macao and Taiwan residents' },
  hk_macao_travel_permit: { zh: '港澳居民来往内地通行证', en: 'mainland travel permit for Hong Kong and Macao residents' },
  taiwan_travel_permit: { zh: '台湾居民来往大陆通行证', en: 'mainland travel permit for Taiwan residents' },
  passport: { zh: '护照', en: 'passport' },
};

export interface IdentityDocument {
  readonly type: IdentityDocumentType;
  /** Normalised: half-width, no spaces, upper case. */
  readonly number: string;
  /** ISO 3166-1 alpha-3, passports only. */
  readonly country: string | null;
}

/** The three request fields of one document. */
export interface IdentityDocumentFields {
  readonly type: FieldRef;
  readonly number: FieldRef;
  readonly country: FieldRef;
}

/**
 * The fields `<prefix>id_type`, `<prefix>id_number`, `<prefix>id_country` labelled after `whoZh` / `whoEn`
 * (e.g. `handler.`, '经办人', "Handler's"). The path separator is part of the prefix.
 */
export function identityFields(prefix: string, whoZh: string, whoEn: string): IdentityDocumentFields {
  return {
    type: fieldRef(`${prefix}id_type`, `${whoZh}身份证件类型`, `${whoEn} identity document type`),
    number: fieldRef(`${prefix}id_number`, `${whoZh}身份证件号码`, `${whoEn} identity document number`),
    country: fieldRef(`${prefix}id_country`, `${whoZh}护照签发国家`, `${whoEn} passport issuing country`),
  };
}

/** GB/T 2260 mainland province codes (not 71/81/82/83): the acceptance place of a permanent residence card. */
const isMainlandProvince = (code: string): boolean => PROVINCE_PREFIXES.has(code) && !['71', '81', '82', '83'].includes(code);

/** ICAO 9303 check digit: digits as themselves, A–Z as 10–35, weights 7, 3, 1, sum mod 10. */
export function computeIcaoCheckDigit(s: string): string {
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const v = /\d/.test(c) ? Number(c) : c >= 'A' && c <= 'Z' ? c.charCodeAt(0) - 55 : 0;
    sum += v * [7, 3, 1][i % 3]!;
  }
  return String(sum % 10);
}

function isRealDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function parseType(input: unknown, field: FieldRef): IdentityDocumentType {
  if (input === undefined || input === null || input === '') return 'resident_id'; // older clients send none
  if (typeof input === 'string' && (IDENTITY_DOCUMENT_TYPES as readonly string[]).includes(input)) return input as IdentityDocumentType;
  throw invalidField(field, `应为以下之一：${IDENTITY_DOCUMENT_TYPES.join('、')}`, `must be one of ${IDENTITY_DOCUMENT_TYPES.join(', ')}`, { code: 'ID_TYPE_UNKNOWN' });
}

function checkMismatch(field: FieldRef, expected: string, actual: string): DomainError {
  return invalidField(
    field,
    `校验码错误（应为“${expected}”，实际为“${actual}”），请核对是否输入有误`,
    `check digit is wrong (should be "${expected}", not "${actual}"); please check for typing errors`,
    { code: 'ID_CHECK', details: { expected, actual } },
  );
}

function parseForeignPermanentResidentId(id: string, field: FieldRef): void {
  if (/^[A-Z]{3}\d{12}$/.test(id)) {
    const nationality = id.slice(0, 3);
    if (!countries.isValid(nationality)) throw invalidField(field, `国籍代码“${nationality}”不是 ISO 3166 国家代码`, `nationality code "${nationality}" is not an ISO 3166 country code`, { code: 'ID_NATIONALITY' });
    if (!isMainlandProvince(id.slice(3, 5))) throw invalidField(field, `受理地代码“${id.slice(3, 7)}”无效`, `acceptance place code "${id.slice(3, 7)}" is not valid`, { code: 'ID_DIVISION' });
    const [yy, m, d] = [Number(id.slice(7, 9)), Number(id.slice(9, 11)), Number(id.slice(11, 13))];
    if (!isRealDate(1900 + yy, m, d) && !isRealDate(2000 + yy, m, d)) throw invalidField(field, `出生日期“${id.slice(7, 13)}”不是有效日期`, `birth date "${id.slice(7, 13)}" is not a real date`, { code: 'ID_BIRTH_DATE' });
    const expected = computeIcaoCheckDigit(id.slice(0, 14));
    if (expected !== id[14]) throw checkMismatch(field, expected, id[14]!);
    return;
  }
  if (/^9\d{16}[\dX]$/.test(id)) {
    if (!isMainlandProvince(id.slice(1, 3))) throw invalidField(field, `受理地代码“${id.slice(1, 3)}”无效`, `acceptance province code "${id.slice(1, 3)}" is not valid`, { code: 'ID_DIVISION' });
    if (!countries.numericToAlpha3(id.slice(3, 6))) throw invalidField(field, `国籍代码“${id.slice(3, 6)}”不是 ISO 3166 数字国家代码`, `nationality code "${id.slice(3, 6)}" is not an ISO 3166 numeric country code`, { code: 'ID_NATIONALITY' });
    if (!isRealDate(Number(id.slice(6, 10)), Number(id.slice(10, 12)), Number(id.slice(12, 14)))) throw invalidField(field, `出生日期“${id.slice(6, 14)}”不是有效日期`, `birth date "${id.slice(6, 14)}" is not a real date`, { code: 'ID_BIRTH_DATE' });
    const expected = computeResidentIdCheckCharacter(id.slice(0, 17));
    if (expected !== id[17]) throw checkMismatch(field, expected, id[17]!);
    return;
  }
  throw invalidField(
    field,
    '应为15位（3个字母国籍代码加12位数字）或2023年版的18位（以9开头）外国人永久居留身份证号码',
    'must be the 15-character number (3-letter nationality and 12 digits) or the 18-digit number of the 2023 card (starting with 9)',
    { code: 'ID_FORMAT' },
  );
}

function parsePassportCountry(input: unknown, field: FieldRef): string {
  if (input === undefined || input === null || input === '') throw requiredField(field);
  const c = typeof input === 'string' ? normaliseCodeInput(input) : '';
  const alpha3 = c.length === 2 ? countries.alpha2ToAlpha3(c) : c.length === 3 && countries.isValid(c) ? c : undefined;
  if (!alpha3) throw invalidField(field, '应为 ISO 3166 国家代码（如 USA、DE）', 'must be an ISO 3166 country code (e.g. USA, DE)', { code: 'ID_COUNTRY' });
  return alpha3;
}

/** Check one document given as its three request values; the number is checked by the rules of its type. */
export function parseIdentityDocument(
  input: { type?: unknown; number?: unknown; country?: unknown },
  fields: IdentityDocumentFields,
  asOf?: Date,
): IdentityDocument {
  const v = new ValidationCollector();
  const type = v.check(() => parseType(input.type, fields.type));
  const country = type === 'passport' ? v.check(() => parsePassportCountry(input.country, fields.country)) : null;
  if (type !== 'passport' && input.country !== undefined && input.country !== null && input.country !== '') {
    v.add(invalidField(fields.country, '仅护照需要填写签发国家', 'is only given for a passport', { code: 'ID_COUNTRY_NOT_PASSPORT' }));
  }
  const number = v.check(() => {
    const raw = input.number;
    if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) throw requiredField(fields.number);
    if (typeof raw !== 'string') throw invalidField(fields.number, '必须是文本', 'must be a string', { code: 'ID_FORMAT' });
    if (type === undefined) return undefined;
    const id = normaliseCodeInput(raw);
    switch (type) {
      case 'resident_id':
        return parseResidentId(id, { field: fields.number, asOf }).id;
      case 'hmt_residence_permit': {
        const parsed = parseResidentId(id, { field: fields.number, asOf }).id;
        if (!['810000', '820000', '830000'].includes(parsed.slice(0, 6))) {
          throw invalidField(fields.number, '港澳台居民居住证号码应以810000（香港）、820000（澳门）或830000（台湾）开头', 'a residence permit number starts with 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan)', { code: 'ID_DIVISION' });
        }
        return parsed;
      }
      case 'foreign_permanent_resident_id':
        parseForeignPermanentResidentId(id, fields.number);
        return id;
      case 'hk_macao_travel_permit':
        if (!/^[HM]\d{8}$/.test(id)) throw invalidField(fields.number, '应为H（香港）或M（澳门）加8位数字', 'must be H (Hong Kong) or M (Macao) followed by 8 digits', { code: 'ID_FORMAT' });
        return id;
      case 'taiwan_travel_permit':
        if (!/^\d{8}$/.test(id)) throw invalidField(fields.number, '应为8位数字', 'must be 8 digits', { code: 'ID_FORMAT' });
        return id;
      case 'passport':
        if (country === 'CHN' ? !/^[EG][A-Z\d]\d{7}$/.test(id) : !/^[A-Z\d]{5,9}$/.test(id)) {
          throw country === 'CHN'
            ? invalidField(fields.number, '中国护照号码应为E或G开头的9位', 'a Chinese passport number has 9 characters starting with E or G', { code: 'ID_FORMAT' })
            : invalidField(fields.number, '护照号码应为5至9位字母或数字', 'a passport number has 5 to 9 letters or digits', { code: 'ID_FORMAT' });
        }
        return id;
    }
  });
  v.throwIfAny();
  return { type: type!, number: number!, country: country ?? null };
}

/** Read `<prefix>id_type`, `<prefix>id_number`, `<prefix>id_country` of a (flat) request object. */
export function parseIdentityDocumentOf(body: Readonly<Record<string, unknown>>, prefix: string, fields: IdentityDocumentFields, asOf?: Date): IdentityDocument {
  return parseIdentityDocument({ type: body[`${prefix}id_type`], number: body[`${prefix}id_number`], country: body[`${prefix}id_country`] }, fields, asOf);
}

const isGbForm = (t: IdentityDocumentType): boolean => t === 'resident_id' || t === 'hmt_residence_permit';

/** The document's identity key (see the module comment): what is encrypted, hashed and compared. */
export function identityKey(doc: IdentityDocument): string {
  if (isGbForm(doc.type)) return doc.number;
  return doc.type === 'passport' ? `passport:${doc.country}:${doc.number}` : `${doc.type}:${doc.number}`;
}

/** The document of an identity key (a stored value); a bare number is a resident ID or residence permit. */
export function documentOfKey(key: string): IdentityDocument {
  const parts = key.split(':');
  if (parts.length === 1) return { type: /^8[123]0000/.test(key) ? 'hmt_residence_permit' : 'resident_id', number: key, country: null };
  if (parts[0] === 'passport' && parts.length === 3) return { type: 'passport', number: parts[2]!, country: parts[1]! };
  return { type: parts[0] as IdentityDocumentType, number: parts.slice(1).join(':'), country: null };
}

/** Mask an identity key for display: GB 11643 numbers as {@link maskResidentId}, others keep their last 4 characters. */
export function maskIdentityKey(key: string): string {
  const doc = documentOfKey(key);
  if (isGbForm(doc.type)) return maskResidentId(doc.number);
  const masked = doc.number.length <= 4 ? '*'.repeat(doc.number.length) : '*'.repeat(doc.number.length - 4) + doc.number.slice(-4);
  return doc.type === 'passport' ? `${doc.country} ${masked}` : masked;
}
