/**
 * The two official documents the maker hands to the holder, rendered from handlebars templates in
 * web/views/documents/ to HTML (here: the input data, its view models and the templates), then to PDF by the
 * browser pool in ./pdf-renderer.ts:
 *
 * - M10 《电子印章制作证书》 production certificate, given when the seal is issued;
 * - M13 《电子印章登出证书》 cancellation certificate, given when the seal is cancelled (also M9 unclaimed
 *   seals and M11 replacements);
 * - U2 P2 《电子签章验证报告》 the verification report, signed by the platform.
 *
 * Every value that reaches a template is treated as hostile: the templates use only `{{…}}` (handlebars'
 * HTML escaping, which also covers quoted attributes), never `{{{…}}}`; no custom helper returns a
 * SafeString. All formatting is done here, in TypeScript, into a plain view model of strings, so the
 * templates need no helpers at all (compiled with `knownHelpersOnly` and `strict`). The imprint is the one
 * binary input: it must be a Buffer holding a PNG or an SVG, and is embedded base64-encoded in a data: URI
 * of an <img> (an SVG inside <img> never runs script nor loads anything).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';

// --- input data ---------------------------------------------------------------------------------------

/** A bilingual label, e.g. SEAL_KIND_LABELS.business_contract = { zh: '合同专用章', en: 'Contract seal' }. */
export interface BilingualLabel {
  zh: string;
  en: string;
}

/** The seal's imprint: the bytes of a PNG or an SVG, e.g. as produced by the imprint renderer (S3). */
export interface ImprintImage {
  mediaType: 'image/png' | 'image/svg+xml';
  bytes: Buffer;
}

export interface DocumentHolder {
  /** Legal name of the holder (用章单位), exactly as registered. */
  name: string;
  /** Unified social credit code (GB 32100), 18 characters. */
  uscc: string;
}

export interface DocumentSeal {
  /** The kind's label, e.g. { zh: '合同专用章', en: 'Contract seal' }. */
  kindLabel: BilingualLabel;
  /** Arabic number of a business-purpose seal (A1), shown as 合同专用章(2); null for other kinds. */
  number: number | null;
  /** The seal code 印章编码. */
  code: string;
}

export interface DocumentCertificate {
  /** Serial number of the seal's X.509 certificate, hex (colons allowed). */
  serial: string;
  /** SHA-256 fingerprint of the DER certificate, 64 hex digits (colons allowed). */
  sha256Fingerprint: string;
}

export interface DocumentMaker {
  /** The licensed seal maker 印章制作单位 (M1). */
  name: string;
  /** Its public-security licence number. */
  licenceNumber: string;
}

export interface ProductionCertificateData {
  /** The certificate's own number, e.g. 京章制证〔2025〕第000123号. */
  documentNumber: string;
  holder: DocumentHolder;
  seal: DocumentSeal;
  certificate: DocumentCertificate;
  imprint: ImprintImage;
  maker: DocumentMaker;
  /** When production finished. */
  producedAt: Date;
  /** When the production data was filed with public security (M3). */
  filedAt: Date;
  /** Police office the filing went to, e.g. 北京市公安局朝阳分局 (P3); optional. */
  policeOffice?: string | null;
  /** When the seal was issued to the holder, which is also the certificate's date. */
  issuedAt: Date;
}

/** Why a seal was cancelled: M9 not collected within three months, holder's request (M12/M13), M11 replacement. */
export type CancellationReason = 'unclaimed' | 'holder_request' | 'replacement';

export const CANCELLATION_REASON_LABELS: Readonly<Record<CancellationReason, BilingualLabel>> = {
  unclaimed: { zh: '超过三个月未领取', en: 'Not collected within three months' },
  holder_request: { zh: '持有单位申请', en: "At the holder's request" },
  replacement: { zh: '更换（登出原印章并重新制作）', en: 'Replacement (old seal cancelled, new seal produced)' },
};

export interface CancellationCertificateData {
  /** The certificate's own number, e.g. 京章登证〔2025〕第000045号. */
  documentNumber: string;
  holder: DocumentHolder;
  seal: DocumentSeal;
  /**
   * The cancelled seal's certificate; the fingerprint is optional here. serial null: no certificate was ever
   * issued (a seal cancelled before its certificate existed); the document then says so.
   */
  certificate: { serial: string | null; sha256Fingerprint?: string | null };
  reason: CancellationReason;
  /** Free-text detail, e.g. 名称变更 for a replacement; optional. */
  reasonDetail?: string | null;
  /** When the seal was cancelled (登出). */
  cancelledAt: Date;
  /** When its certificate was revoked; null only when no certificate was issued. */
  revokedAt: Date | null;
  // No filing date (M13): the filing follows the certificate and changes state; see the template.
  maker: DocumentMaker;
  /** When this certificate was issued; defaults to cancelledAt. */
  issuedAt?: Date | null;
  /** The cancelled seal's imprint, shown struck through; optional. */
  imprint?: ImprintImage | null;
}

/**
 * U2 P2: the verification report as a document the platform signs (the public page's download and
 * `POST /api/verifications` with `Accept: application/pdf`): what was verified, when, by whom, and each
 * signature's findings, the same content as the page.
 */
export interface VerificationReportData {
  validationTime: Date;
  /** Who verified: the platform's name (the PDF's signature names its certificate). */
  verifier: BilingualLabel;
  policy: string;
  document: { name: string; size: number; sha256: string };
  /** The detached signature (.p7s) verified with the file, if any. */
  detachedSignature: { name: string; size: number; sha256: string } | null;
  signatures: VerifiedSignatureData[];
}

export interface VerifiedSignatureData {
  id: string;
  indication: { code: string; label: BilingualLabel };
  subIndication: string | null;
  format: string;
  seal: null | { holderName: string; uscc: string; kindLabel: BilingualLabel; number: number | null; text: string; code: string | null };
  /** I2: the recognised platform that filed the seal, if not ours. */
  platform: null | { name: string; code: string };
  imprint: ImprintImage | null;
  signingTime: { claimed: Date | null; useRegister: Date | null; timestamp: Date | null };
  timestamp: null | { time: Date; tsa: string | null; serial: string; valid: boolean; trusted: boolean };
  chain: Array<{ role: string; subject: string; serial: string; fingerprint: string }>;
  status: { atSigningTime: BilingualLabel; now: BilingualLabel; revokedAt: Date | null; onHoldSince: Date | null };
  liveWhenSigned: boolean | null;
  covers: { wholeDocument: boolean; byteRange: number[] | null };
  checks: { format: boolean; messageDigest: boolean; signatureValue: boolean; signingCertificate: boolean; chain: boolean };
  docmdpViolated: boolean | null;
  messages: BilingualLabel[];
}

export type DocumentTemplate = 'production-certificate' | 'cancellation-certificate' | 'verification-report';

export interface DocumentDataByTemplate {
  'production-certificate': ProductionCertificateData;
  'cancellation-certificate': CancellationCertificateData;
  'verification-report': VerificationReportData;
}

// --- view models (strings only) -------------------------------------------------------------------------

interface DateView {
  zh: string;
  en: string;
}

const MAX_IMPRINT_BYTES = 2 * 1024 * 1024;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const EN_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
/** Beijing time is UTC+8 all year (no daylight saving since 1991). */
const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

function fail(field: string, problem: string): never {
  throw new TypeError(`document data: ${field} ${problem}`);
}

function text(value: unknown, field: string, maxLength = 500): string {
  if (typeof value !== 'string') fail(field, 'must be a string');
  const trimmed = value.trim();
  if (trimmed === '') fail(field, 'must not be empty');
  if (trimmed.length > maxLength) fail(field, `must be at most ${maxLength} characters`);
  return trimmed;
}

function optionalText(value: unknown, field: string, maxLength = 500): string | null {
  return value === undefined || value === null || value === '' ? null : text(value, field, maxLength);
}

function hex(value: unknown, field: string, exactDigits?: number): string {
  const digits = text(value, field, 200).replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(digits)) fail(field, 'must be hexadecimal');
  if (exactDigits !== undefined && digits.length !== exactDigits) fail(field, `must have ${exactDigits} hex digits`);
  return digits;
}

function beijingParts(value: unknown, field: string) {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) fail(field, 'must be a valid Date');
  const d = new Date(value.getTime() + BEIJING_OFFSET_MS);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes() };
}

const pad2 = (n: number) => String(n).padStart(2, '0');

function dateView(value: unknown, field: string): DateView {
  const p = beijingParts(value, field);
  return { zh: `${p.y}年${p.mo}月${p.d}日`, en: `${p.d} ${EN_MONTHS[p.mo - 1]} ${p.y}` };
}

function dateTimeView(value: unknown, field: string): DateView {
  const p = beijingParts(value, field);
  return {
    zh: `${p.y}年${p.mo}月${p.d}日 ${pad2(p.h)}:${pad2(p.mi)}`,
    en: `${p.y}-${pad2(p.mo)}-${pad2(p.d)} ${pad2(p.h)}:${pad2(p.mi)} Beijing time (UTC+8)`,
  };
}

function sealView(seal: DocumentSeal | undefined) {
  if (seal === null || typeof seal !== 'object') fail('seal', 'is required');
  const zh = text(seal.kindLabel?.zh, 'seal.kindLabel.zh', 50);
  const en = text(seal.kindLabel?.en, 'seal.kindLabel.en', 100);
  const number = seal.number;
  if (number !== null && number !== undefined && (!Number.isSafeInteger(number) || number < 1)) fail('seal.number', 'must be a positive integer or null');
  const suffix = number === null || number === undefined ? null : number;
  return {
    labelZh: suffix === null ? zh : `${zh}(${suffix})`,
    labelEn: suffix === null ? en : `${en} (${suffix})`,
    code: text(seal.code, 'seal.code', 64),
  };
}

function holderView(holder: DocumentHolder | undefined) {
  if (holder === null || typeof holder !== 'object') fail('holder', 'is required');
  return { name: text(holder.name, 'holder.name', 200), uscc: text(holder.uscc, 'holder.uscc', 18) };
}

function makerView(maker: DocumentMaker | undefined) {
  if (maker === null || typeof maker !== 'object') fail('maker', 'is required');
  return { name: text(maker.name, 'maker.name', 200), licenceNumber: text(maker.licenceNumber, 'maker.licenceNumber', 64) };
}

/** 64 hex digits as two lines of 16 colon-separated bytes, the way certificate viewers show them. */
function fingerprintLines(value: unknown, field: string): string[] {
  const digits = hex(value, field, 64);
  const bytes = digits.match(/../g)!;
  return [bytes.slice(0, 16).join(':'), bytes.slice(16).join(':')];
}

/**
 * The imprint as a data: URI. Only a Buffer is accepted (a string could be markup smuggled in); its
 * content must match the declared media type. The result contains only base64 characters, and handlebars
 * escapes it anyway.
 */
function imprintSrc(imprint: ImprintImage | undefined | null, field: string): string {
  if (imprint === null || typeof imprint !== 'object') fail(field, 'is required');
  const { mediaType, bytes } = imprint;
  if (!Buffer.isBuffer(bytes)) fail(`${field}.bytes`, 'must be a Buffer (strings are never embedded)');
  if (bytes.length === 0 || bytes.length > MAX_IMPRINT_BYTES) fail(`${field}.bytes`, `must hold 1 to ${MAX_IMPRINT_BYTES} bytes`);
  if (mediaType === 'image/png') {
    if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE)) fail(`${field}.bytes`, 'is not a PNG');
  } else if (mediaType === 'image/svg+xml') {
    let svg: string;
    try {
      svg = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      fail(`${field}.bytes`, 'is not UTF-8 SVG');
    }
    if (!/<svg[\s>]/.test(svg)) fail(`${field}.bytes`, 'is not an SVG');
  } else {
    fail(`${field}.mediaType`, "must be 'image/png' or 'image/svg+xml'");
  }
  return `data:${mediaType};base64,${bytes.toString('base64')}`;
}

function policeOfficeView(value: unknown) {
  return optionalText(value, 'policeOffice', 100);
}

function productionView(data: ProductionCertificateData) {
  if (data === null || typeof data !== 'object') fail('data', 'is required');
  const holder = holderView(data.holder);
  const seal = sealView(data.seal);
  if (data.certificate === null || typeof data.certificate !== 'object') fail('certificate', 'is required');
  return {
    documentNumber: text(data.documentNumber, 'documentNumber', 64),
    holder,
    seal,
    certificate: {
      serial: hex(data.certificate.serial, 'certificate.serial'),
      fingerprint: fingerprintLines(data.certificate.sha256Fingerprint, 'certificate.sha256Fingerprint'),
    },
    imprint: { src: imprintSrc(data.imprint, 'imprint'), alt: `${holder.name} ${seal.labelZh} 印模` },
    maker: makerView(data.maker),
    producedAt: dateView(data.producedAt, 'producedAt'),
    filedAt: dateView(data.filedAt, 'filedAt'),
    issuedAt: dateView(data.issuedAt, 'issuedAt'),
    policeOffice: policeOfficeView(data.policeOffice),
  };
}

function cancellationView(data: CancellationCertificateData) {
  if (data === null || typeof data !== 'object') fail('data', 'is required');
  const holder = holderView(data.holder);
  const seal = sealView(data.seal);
  if (data.certificate === null || typeof data.certificate !== 'object') fail('certificate', 'is required');
  if (!Object.prototype.hasOwnProperty.call(CANCELLATION_REASON_LABELS, data.reason)) {
    fail('reason', `must be one of ${Object.keys(CANCELLATION_REASON_LABELS).join(', ')}`);
  }
  if ((data.certificate.serial === null) !== (data.revokedAt === null)) {
    fail('revokedAt', 'must be null exactly when certificate.serial is null (no certificate was issued)');
  }
  const fp = data.certificate.sha256Fingerprint;
  const imprint = data.imprint;
  return {
    documentNumber: text(data.documentNumber, 'documentNumber', 64),
    holder,
    seal,
    certificate: {
      serial: data.certificate.serial === null ? null : hex(data.certificate.serial, 'certificate.serial'),
      fingerprint: fp === undefined || fp === null || fp === '' ? null : fingerprintLines(fp, 'certificate.sha256Fingerprint'),
    },
    reason: {
      ...CANCELLATION_REASON_LABELS[data.reason],
      detail: optionalText(data.reasonDetail, 'reasonDetail', 200),
      unclaimed: data.reason === 'unclaimed',
    },
    cancelledAt: dateTimeView(data.cancelledAt, 'cancelledAt'),
    revokedAt: data.revokedAt === null ? null : dateTimeView(data.revokedAt, 'revokedAt'),
    maker: makerView(data.maker),
    issuedAt: dateView(data.issuedAt ?? data.cancelledAt, data.issuedAt ? 'issuedAt' : 'cancelledAt'),
    imprint: imprint === undefined || imprint === null ? null : { src: imprintSrc(imprint, 'imprint'), alt: `${holder.name} ${seal.labelZh} 印模（已登出）` },
  };
}

const YES_NO = (v: boolean | null) => (v === null ? { zh: '无法证明', en: 'not proven' } : v ? { zh: '是', en: 'yes' } : { zh: '否', en: 'no' });
const PASSED = (v: boolean) => (v ? { zh: '通过', en: 'passed' } : { zh: '未通过', en: 'failed' });

function label(value: BilingualLabel | undefined, field: string): BilingualLabel {
  if (value === null || typeof value !== 'object') fail(field, 'is required');
  return { zh: text(value.zh, `${field}.zh`, 200), en: text(value.en, `${field}.en`, 300) };
}

function optionalTime(value: Date | null | undefined, field: string): DateView | null {
  return value === null || value === undefined ? null : dateTimeView(value, field);
}

function size(value: unknown, field: string): string {
  if (!Number.isSafeInteger(value) || (value as number) < 0) fail(field, 'must be a non-negative integer');
  return `${(value as number).toLocaleString('en-US')} bytes`;
}

function fileView(file: { name: string; size: number; sha256: string } | null | undefined, field: string) {
  if (file === null || typeof file !== 'object') fail(field, 'is required');
  // A file may be sent without a name: the report then says so rather than failing.
  return { name: optionalText(file.name, `${field}.name`, 300) ?? '（无文件名）', size: size(file.size, `${field}.size`), sha256: hex(file.sha256, `${field}.sha256`, 64).toLowerCase() };
}

function signatureView(s: VerifiedSignatureData, i: number) {
  const f = `signatures[${i}]`;
  if (s === null || typeof s !== 'object') fail(f, 'is required');
  const seal = s.seal
    ? (() => {
        const kind = label(s.seal.kindLabel, `${f}.seal.kindLabel`);
        const n = s.seal.number;
        if (n !== null && n !== undefined && (!Number.isSafeInteger(n) || n < 1)) fail(`${f}.seal.number`, 'must be a positive integer or null');
        return {
          holderName: text(s.seal.holderName, `${f}.seal.holderName`, 200),
          uscc: text(s.seal.uscc, `${f}.seal.uscc`, 64),
          kindZh: n ? `${kind.zh}(${n})` : kind.zh,
          kindEn: n ? `${kind.en} (${n})` : kind.en,
          text: text(s.seal.text, `${f}.seal.text`, 200),
          code: optionalText(s.seal.code, `${f}.seal.code`, 64) ?? '—',
        };
      })()
    : null;
  const ts = s.timestamp
    ? { time: dateTimeView(s.timestamp.time, `${f}.timestamp.time`), tsa: optionalText(s.timestamp.tsa, `${f}.timestamp.tsa`, 500) ?? '—', serial: optionalText(s.timestamp.serial, `${f}.timestamp.serial`, 100) ?? '—', valid: YES_NO(!!s.timestamp.valid), trusted: YES_NO(!!s.timestamp.trusted) }
    : null;
  const checks = s.checks;
  if (checks === null || typeof checks !== 'object') fail(`${f}.checks`, 'is required');
  if (!Array.isArray(s.chain) || !Array.isArray(s.messages)) fail(f, 'chain and messages must be arrays');
  const byteRange = s.covers?.byteRange;
  if (byteRange !== null && byteRange !== undefined && (!Array.isArray(byteRange) || byteRange.some((n) => !Number.isSafeInteger(n)))) fail(`${f}.covers.byteRange`, 'must be integers');
  return {
    id: text(s.id, `${f}.id`, 20),
    indication: { code: text(s.indication?.code, `${f}.indication.code`, 40), ...label(s.indication?.label, `${f}.indication.label`) },
    tone: s.indication?.code === 'TOTAL-PASSED' ? 'ok' : s.indication?.code === 'TOTAL-FAILED' ? 'bad' : 'warn',
    subIndication: optionalText(s.subIndication, `${f}.subIndication`, 60),
    format: text(s.format, `${f}.format`, 40),
    seal,
    platform: s.platform ? { name: text(s.platform.name, `${f}.platform.name`, 200), code: text(s.platform.code, `${f}.platform.code`, 64) } : null,
    imprint: s.imprint ? { src: imprintSrc(s.imprint, `${f}.imprint`), alt: seal ? `${seal.holderName} ${seal.kindZh} 印模` : '印模' } : null,
    claimedTime: optionalTime(s.signingTime?.claimed, `${f}.signingTime.claimed`),
    useRegisterTime: optionalTime(s.signingTime?.useRegister, `${f}.signingTime.useRegister`),
    timestampTime: optionalTime(s.signingTime?.timestamp, `${f}.signingTime.timestamp`),
    timestamp: ts,
    chain: s.chain.map((c, j) => ({
      role: text(c.role, `${f}.chain[${j}].role`, 20),
      subject: text(c.subject, `${f}.chain[${j}].subject`, 1000),
      serial: hex(c.serial, `${f}.chain[${j}].serial`),
      fingerprint: hex(c.fingerprint, `${f}.chain[${j}].fingerprint`, 64),
    })),
    status: {
      atSigningTime: label(s.status?.atSigningTime, `${f}.status.atSigningTime`),
      now: label(s.status?.now, `${f}.status.now`),
      revokedAt: optionalTime(s.status?.revokedAt, `${f}.status.revokedAt`),
      onHoldSince: optionalTime(s.status?.onHoldSince, `${f}.status.onHoldSince`),
    },
    live: YES_NO(s.liveWhenSigned),
    wholeDocument: YES_NO(!!s.covers?.wholeDocument),
    byteRange: byteRange ? byteRange.join(' ') : null,
    checks: [
      { zh: '格式', en: 'Format', result: PASSED(!!checks.format) },
      { zh: '摘要（文件未被改动）', en: 'Digest (content unchanged)', result: PASSED(!!checks.messageDigest) },
      { zh: '签名值', en: 'Signature value', result: PASSED(!!checks.signatureValue) },
      { zh: '签名证书引用', en: 'Signing certificate reference', result: PASSED(!!checks.signingCertificate) },
      { zh: '证书链（至平台根证书）', en: 'Chain (to the platform root)', result: PASSED(!!checks.chain) },
    ],
    docmdp: s.docmdpViolated === null || s.docmdpViolated === undefined ? null : s.docmdpViolated ? { zh: '认证签名之后内容被改动', en: 'content changed after the certification signature' } : { zh: '认证签名，其后无禁止的改动', en: 'certification signature, no forbidden change after it' },
    messages: s.messages.map((m, j) => label(m, `${f}.messages[${j}]`)),
  };
}

function verificationReportView(data: VerificationReportData) {
  if (data === null || typeof data !== 'object') fail('data', 'is required');
  if (!Array.isArray(data.signatures)) fail('signatures', 'must be an array');
  return {
    validationTime: dateTimeView(data.validationTime, 'validationTime'),
    validationTimeUtc: data.validationTime.toISOString(),
    verifier: label(data.verifier, 'verifier'),
    policy: text(data.policy, 'policy', 2000),
    document: fileView(data.document, 'document'),
    detachedSignature: data.detachedSignature ? fileView(data.detachedSignature, 'detachedSignature') : null,
    signatureCount: String(data.signatures.length),
    signatures: data.signatures.map(signatureView),
  };
}

// --- templates ------------------------------------------------------------------------------------------

/** web/views/documents, found from this file both in the source tree and in a compiled dist/ tree. */
function templatesDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'web', 'views', 'documents');
    if (existsSync(path.join(candidate, 'production-certificate.hbs'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`web/views/documents not found above ${__dirname}`);
  }
}

type Compiled = (context: unknown) => string;

/** An isolated handlebars environment: no helper or partial registered elsewhere can leak in. */
let environment: typeof Handlebars | null = null;
const compiled = new Map<DocumentTemplate, Compiled>();

function template(name: DocumentTemplate): Compiled {
  const cached = compiled.get(name);
  if (cached) return cached;
  const dir = templatesDir();
  if (environment === null) {
    const env = Handlebars.create();
    env.registerPartial('certificate-styles', readFileSync(path.join(dir, '_certificate-styles.hbs'), 'utf8'));
    environment = env;
  }
  // strict: a field missing from the view model is a bug, not an empty cell. knownHelpersOnly: the
  // templates may use the built-in block helpers (if, each) and nothing else.
  const fn = environment.compile(readFileSync(path.join(dir, `${name}.hbs`), 'utf8'), { strict: true, knownHelpersOnly: true });
  compiled.set(name, fn);
  return fn;
}

/** M10 / M13 / the verification report: the document as a complete, self-contained HTML page (A4, no scripts, no external resources). */
export function renderDocumentHtml<T extends DocumentTemplate>(name: T, data: DocumentDataByTemplate[T]): string {
  switch (name) {
    case 'production-certificate':
      return template(name)(productionView(data as ProductionCertificateData));
    case 'cancellation-certificate':
      return template(name)(cancellationView(data as CancellationCertificateData));
    case 'verification-report':
      return template(name)(verificationReportView(data as VerificationReportData));
    default:
      throw new TypeError(`unknown document template: ${String(name)}`);
  }
}
