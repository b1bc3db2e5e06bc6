// What a signature request says about the document it signs (U1, C4 用印登记): its purpose, its type and
// the format of the signature. Pure rules; the request's file and password are judged by the use-case.
import { fieldRef, invalidField, requiredField, type FieldRef } from './errors';

/** 三(四) 用印登记: the document types the register distinguishes. */
export const DOCUMENT_TYPES = {
  official_document: { zh: '公文', en: 'Official document' },
  licence: { zh: '证照', en: 'Certificate or licence' },
  agreement: { zh: '协议', en: 'Agreement' },
  voucher: { zh: '凭据', en: 'Voucher' },
  circulation_form: { zh: '流转单', en: 'Circulation form' },
  other: { zh: '其他', en: 'Other' },
} as const;
export type DocumentType = keyof typeof DOCUMENT_TYPES;

/**
 * cms: a detached CMS signature (.p7s, CAdES-B-B) of any file; pades: the PDF itself, signed (PAdES B-B);
 * ofd: the OFD document itself, signed with the seal in the national format (GB/T 38540 SES_Signature, SM2).
 */
export const SIGNATURE_FORMATS = {
  cms: { zh: 'CMS 分离式签名（.p7s）', en: 'CMS detached signature (.p7s)' },
  pades: { zh: 'PDF 签章（PAdES）', en: 'PDF signature (PAdES)' },
  ofd: { zh: 'OFD 电子签章（GB/T 38540，SM2）', en: 'OFD seal signature (GB/T 38540, SM2)' },
} as const;
export type SignatureFormat = keyof typeof SIGNATURE_FORMATS;

export const SIGN_FIELDS = {
  file: fieldRef('file', '待签文件', 'File to sign'),
  idNumber: fieldRef('id_number', '保管人身份证件号码', "Keeper's identity document number"),
  idType: fieldRef('id_type', '保管人身份证件类型', "Keeper's identity document type"),
  idCountry: fieldRef('id_country', '保管人护照签发国家', "Keeper's passport issuing country"),
  password: fieldRef('password', '保护口令', 'Protection password'),
  purpose: fieldRef('purpose', '用印事由', 'Purpose'),
  documentType: fieldRef('document_type', '文件类型', 'Document type'),
  format: fieldRef('format', '签名格式', 'Signature format'),
  page: fieldRef('page', '盖章页码', 'Page'),
  x: fieldRef('x', '印章位置（横向，毫米）', 'Position x (mm)'),
  y: fieldRef('y', '印章位置（纵向，毫米）', 'Position y (mm)'),
  level: fieldRef('level', '签名级别', 'Signature level'),
  certify: fieldRef('certify', '认证签名（禁止后续修改）', 'Certify (no later changes)'),
  crossPage: fieldRef('cross_page', '骑缝章', 'Cross-page seal (骑缝章)'),
} as const satisfies Record<string, FieldRef>;

const MAX_PURPOSE = 200;
// Control characters would forge lines in the register's CSV and logs.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function parsePurpose(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw requiredField(SIGN_FIELDS.purpose);
  const s = v.trim();
  if (CONTROL.test(s)) throw invalidField(SIGN_FIELDS.purpose, '不能含控制字符', 'must not contain control characters');
  if ([...s].length > MAX_PURPOSE) throw invalidField(SIGN_FIELDS.purpose, `最长${MAX_PURPOSE}个字`, `is at most ${MAX_PURPOSE} characters`);
  return s;
}

const oneOf = <K extends string>(field: FieldRef, table: Record<K, { zh: string; en: string }>, v: unknown): K => {
  if (typeof v !== 'string' || v === '') throw requiredField(field);
  if (!Object.prototype.hasOwnProperty.call(table, v)) {
    const keys = Object.keys(table) as K[];
    throw invalidField(field, `应为 ${keys.map((k) => `${k}（${table[k].zh}）`).join('、')} 之一`, `must be one of ${keys.join(', ')}`);
  }
  return v as K;
};

export const parseDocumentType = (v: unknown): DocumentType => oneOf(SIGN_FIELDS.documentType, DOCUMENT_TYPES, v);
export const parseSignatureFormat = (v: unknown): SignatureFormat => oneOf(SIGN_FIELDS.format, SIGNATURE_FORMATS, v);

/**
 * Baseline levels (ETSI EN 319 122-1 / 319 142-1): B-B the signature alone; B-T with an RFC 3161 timestamp
 * over the signature value (the register's time is the timestamp's); B-LT (PDF only) also the validation data
 * (certificates, OCSP answers, CRLs) in the PDF's DSS dictionary, so it validates without asking anyone.
 */
export const SIGNATURE_LEVELS = {
  'B-B': { zh: '基本签名', en: 'basic signature' },
  'B-T': { zh: '带时间戳', en: 'with a timestamp' },
  'B-LT': { zh: '带时间戳和长期验证数据（仅 PDF）', en: 'with a timestamp and long-term validation data (PDF only)' },
} as const;
export type SignatureLevel = keyof typeof SIGNATURE_LEVELS;

/** The level asked for (default B-B): OFD signs at B-B only, B-LT is for PDF. */
export function parseSignatureLevel(v: unknown, format: SignatureFormat | undefined): SignatureLevel {
  if (v === undefined || v === null || v === '') return 'B-B';
  const level = oneOf(SIGN_FIELDS.level, SIGNATURE_LEVELS, v);
  if (format === 'ofd' && level !== 'B-B') throw invalidField(SIGN_FIELDS.level, 'OFD 签章只支持 B-B', 'must be B-B for an OFD signature');
  if (format === 'cms' && level === 'B-LT') throw invalidField(SIGN_FIELDS.level, 'B-LT 只用于 PDF 签章；CMS 签名可选 B-B 或 B-T', 'B-LT is for PDF signatures only; a CMS signature is B-B or B-T');
  return level;
}

/** certify (PDF only): "true" makes the signature a certification (DocMDP P=2); default false. */
export function parseCertify(v: unknown, format: SignatureFormat | undefined): boolean {
  if (v === undefined || v === null || v === '' || v === 'false') return false;
  if (v !== 'true') throw invalidField(SIGN_FIELDS.certify, '应为 true 或 false', 'must be true or false');
  if (format !== 'pades') throw invalidField(SIGN_FIELDS.certify, '只用于 PDF 签章', 'is for PDF signatures only');
  return true;
}

/**
 * cross_page (PDF only): "true" places a 骑缝章, the imprint cut into one slice per page at the pages' right
 * edges (page and x are then not used; y is the height of its centre); default false.
 */
export function parseCrossPage(v: unknown, format: SignatureFormat | undefined): boolean {
  if (v === undefined || v === null || v === '' || v === 'false') return false;
  if (v !== 'true') throw invalidField(SIGN_FIELDS.crossPage, '应为 true 或 false', 'must be true or false');
  if (format !== 'pades') throw invalidField(SIGN_FIELDS.crossPage, '只用于 PDF 签章', 'is for PDF signatures only');
  return true;
}

/** The platform's algorithm suites (issue 13, `pki.algorithmSuite`): which formats each offers. */
export type AlgorithmSuiteName = 'intl' | 'gm' | 'both';
const SUITE_OF_FORMAT: Record<SignatureFormat, Exclude<AlgorithmSuiteName, 'both'>> = { cms: 'intl', pades: 'intl', ofd: 'gm' };

/** A format the configured suite does not offer is refused naming the field (422): ECDSA formats need intl, OFD gm. */
export function assertFormatInSuite(format: SignatureFormat, suite: AlgorithmSuiteName): void {
  const needs = SUITE_OF_FORMAT[format];
  if (suite === 'both' || suite === needs) return;
  throw invalidField(
    SIGN_FIELDS.format,
    needs === 'gm' ? '本平台未启用国密算法（SM2/SM3），不能制作 OFD 电子签章' : '本平台只启用国密算法（SM2/SM3），请使用 OFD 电子签章',
    needs === 'gm' ? 'this platform does not offer the SM2/SM3 suite, so no OFD seal signature' : 'this platform offers only the SM2/SM3 suite: use an OFD seal signature',
    { code: 'FORMAT_NOT_IN_SUITE', httpStatus: 422, details: { suite, needs } },
  );
}

/** The file's name as the register shows it: the last path segment, no control characters, at most 255 characters. */
export function documentName(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return [...clean].slice(0, 255).join('') || 'document';
}

/** An optional integer field of a form within [min, max]. */
export function parseOptionalInt(v: unknown, field: FieldRef, min: number, max: number): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n < min || n > max) throw invalidField(field, `应为 ${min} 到 ${max} 之间的整数`, `must be a whole number from ${min} to ${max}`);
  return n;
}

/** An optional number field (millimetres) within [min, max]. */
export function parseOptionalMm(v: unknown, field: FieldRef, min: number, max: number): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n) || n < min || n > max) throw invalidField(field, `应为 ${min} 到 ${max} 之间的数`, `must be a number from ${min} to ${max}`);
  return n;
}

/** True size of the visible imprint: round public seals 42 mm across; a square personal name seal 20 mm. */
export function imprintSizeMm(sealKind: string): number {
  return sealKind === 'personal_name' ? 20 : 42;
}

/** Error types the signing workflow does not retry: the seal cannot sign, whoever tries again. */
export const SEAL_NOT_LIVE = 'SealNotLive';
