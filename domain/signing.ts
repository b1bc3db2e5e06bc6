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
