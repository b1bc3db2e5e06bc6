// Verification of signatures made with seals (U2, P2): POST a file and its .p7s (or a signed PDF) and get a
// report in the terms of ETSI EN 319 102-1. Public: anyone who received a sealed document may check it, with
// the platform root as the trust anchor, and the platform's own revocation data and use register; a
// signature by a seal another platform filed here is judged by that platform's trust list entry, CRL and
// OCSP (I2, ./recognition.ts).
// Nothing uploaded is kept: the file is hashed as it streams in, the signature parsed, and both discarded.
import { createHash, X509Certificate } from 'node:crypto';
import { certificateView } from './certificate-view';
import type { Db } from '../infra/db';
import type { IncomingFile } from '../infra/blobs';
import { findSignerCertificate, OID, parseSignedData, verifySignerSignature, type ParsedSignedData, type ParsedSignerInfo } from '../infra/signing/cms';
import { parseTimeStampToken, TSP_HASHES } from '../infra/signing/tsp';
import { serialHex } from '../infra/pki/ocsp';
import { conclude, type CertificateStatus, type Indication, type SubIndication } from '../domain/signature-validation';
import { invalidField, requiredField, ValidationCollector, fieldRef } from '../domain/errors';
import { SEAL_KIND_LABELS, type SealKind } from '../domain/seals';
import { byteRangeDigest, byteRangeDigestOfFile, disallowedChangesAfter, disallowedChangesBetween, pdfForReading, readPdfSignatures } from '../infra/signing/pades';
import type { PDFDocument } from '@cantoo/pdf-lib';
import { openPdfLazily, type LazyPdf } from '../infra/signing/pdf-lazy';
import { readDss } from '../infra/signing/pades-ltv';
import { OFD_MAX_BYTES, PADES_MAX_BYTES } from './seal-signing';
import { judgeOfdSignatures } from './verification-ofd';
import { recogniseExternal, reportExternal } from './recognition';

export const VERIFY_FIELDS = {
  file: fieldRef('file', '待验证文件', 'File to verify'),
  signature: fieldRef('signature', '签名文件（.p7s）', 'Signature (.p7s)'),
};
/** The largest .p7s read (a CMS signature with its chain is a few kilobytes). */
export const MAX_SIGNATURE_BYTES = 1024 * 1024;

export interface CertificateView {
  subject: string;
  issuer: string;
  serial: string;
  not_before: string;
  not_after: string;
  fingerprint_sha256: string;
}

export interface SignatureReport {
  id: string;
  indication: Indication;
  sub_indication: SubIndication | null;
  signature_format: 'CAdES-BASELINE-B' | 'CAdES-BASELINE-T' | 'PAdES-BASELINE-B' | 'PAdES-BASELINE-T' | 'PAdES-BASELINE-LT' | 'PKCS7-B' | 'SES-V4-OFD';
  checks: { format: boolean; message_digest: boolean; signature_value: boolean; signing_certificate: boolean; chain: boolean };
  covers: { kind: 'whole_file' | 'byte_range' | 'package_files'; whole_document: boolean; byte_range?: number[] };
  signing_time: { claimed: string | null; use_register: string | null; timestamp?: string | null };
  /** B-T: the signature-timestamp (RFC 3161) over the signature value, and whether it proves the time. */
  timestamp?: null | { time: string; tsa: string | null; serial: string; policy: string; valid: boolean; trusted: boolean };
  /** PAdES certification (DocMDP): its permissions, and the later changes it forbids that were made anyway. */
  docmdp?: null | { permissions: number; violated: boolean; changes: string[] };
  seal: null | { id: string; seal_code: string | null; kind: string; kind_zh: string; text: string; status_now: string; holder: { name: string; uscc: string } };
  seal_live_when_signed: boolean | null;
  use_register_id: string | null;
  certificate: CertificateView | null;
  chain: Array<CertificateView & { role: 'signer' | 'issuing_ca' | 'root' }>;
  certificate_status: { at_signing_time: CertificateStatus; now: CertificateStatus; revoked_at: string | null; revocation_reason: string | null; on_hold_since: string | null };
  messages: Array<{ zh: string; en: string }>;
  /** I2: the recognised platform whose filed seal made the signature (absent for this platform's seals). */
  platform?: { code: string; name: string; status: string };
}

export interface VerificationReport {
  validation_time: string;
  policy: string;
  document: { name: string; size: number; sha256: string };
  signatures: SignatureReport[];
}

const POLICY = 'eseal-beijing-basic: trust anchor the platform root CA (SM2 seals: the platform seal maker) and, for seals filed by recognised platforms, the active trust list\'s roots; revocation from the platform (CRL/OCSP data); signing time proven by a signature-timestamp of a TSA under the platform root, else by the use register';
/** An OFD package is a ZIP file. */
const ZIP_MAGIC = Buffer.from('504b0304', 'hex');


interface TrustedCas {
  roots: X509Certificate[];
  issuing: X509Certificate[];
  /** An issuing CA's root (null: none of `roots` signed it), filled on first use. */
  caToRoot: Map<X509Certificate, X509Certificate | null>;
}

/**
 * The platform's CA certificates, read from PostgreSQL on every verification (a re-issued issuing CA counts at
 * once); the parsed certificates and the issuing CA -> root checks are reused while the rows' DER are the same
 * bytes as the last read (parsing them was a tenth of a verification's CPU).
 */
let lastCas: { key: string; cas: TrustedCas } | null = null;

async function trustedCas(db: Db): Promise<TrustedCas> {
  const rows: Array<{ purpose: string; der: Buffer }> = await db('ca_certificates').whereIn('purpose', ['root', 'issuing']).orderBy('fingerprint_sha256').select('purpose', 'der');
  const key = rows.map((r) => `${r.purpose}:${r.der.toString('base64')}`).join(',');
  if (lastCas?.key === key) return lastCas.cas;
  const certs = rows.map((r) => ({ purpose: r.purpose, cert: new X509Certificate(r.der) }));
  const cas: TrustedCas = { roots: certs.filter((c) => c.purpose === 'root').map((c) => c.cert), issuing: certs.filter((c) => c.purpose === 'issuing').map((c) => c.cert), caToRoot: new Map() };
  lastCas = { key, cas };
  return cas;
}

/** The root that signed `issuing` (both from `cas`), checked once per set of CA certificates. */
function rootOf(issuing: X509Certificate, cas: TrustedCas): X509Certificate | null {
  if (!cas.caToRoot.has(issuing)) {
    cas.caToRoot.set(issuing, cas.roots.find((root) => issuing.checkIssued(root) && issuing.verify(root.publicKey) && root.verify(root.publicKey)) ?? null);
  }
  return cas.caToRoot.get(issuing)!;
}

/** signer → an issuing CA of the platform → the platform root; each signature checked, validity at `at`. */
function chainOf(signer: X509Certificate, cas: TrustedCas): X509Certificate[] | null {
  for (const issuing of cas.issuing) {
    if (!signer.checkIssued(issuing) || !signer.verify(issuing.publicKey)) continue;
    const root = rootOf(issuing, cas);
    if (root) return [signer, issuing, root];
  }
  return null;
}

export interface JudgeInput {
  id: string;
  cms: Buffer;
  /** SHA-256 of what the signature covers (the file, or a PDF's byte ranges). */
  coveredSha256: Buffer;
  covers: SignatureReport['covers'];
  level: 'CAdES-BASELINE-B' | 'PAdES-BASELINE-B' | 'PKCS7-B';
  /** PAdES: the PDF has validation data (DSS) for this signature, added after it (B-LT). */
  longTermData?: boolean;
  /** PAdES: the PDF's /M (signing-time is not in the signed attributes). */
  claimedTime?: Date | null;
  now: Date;
}

/** One signature's report: the checks, then the conclusion (domain/signature-validation.ts). */
export async function judgeSignature(db: Db, input: JudgeInput, cas?: TrustedCas): Promise<SignatureReport> {
  const messages: SignatureReport['messages'] = [];
  const report: SignatureReport = {
    id: input.id,
    indication: 'TOTAL-FAILED',
    sub_indication: 'FORMAT_FAILURE',
    signature_format: input.level,
    checks: { format: false, message_digest: false, signature_value: false, signing_certificate: false, chain: false },
    covers: input.covers,
    signing_time: { claimed: input.claimedTime ? input.claimedTime.toISOString() : null, use_register: null },
    seal: null,
    seal_live_when_signed: null,
    use_register_id: null,
    certificate: null,
    chain: [],
    certificate_status: { at_signing_time: 'unknown', now: 'unknown', revoked_at: null, revocation_reason: null, on_hold_since: null },
    messages,
  };
  let parsed: ParsedSignedData;
  try {
    parsed = parseSignedData(input.cms);
  } catch {
    messages.push({ zh: '签名不是可解析的 CMS 签名数据', en: 'The signature is not parsable CMS signed data' });
    return report;
  }
  const signer = parsed.signers[0];
  const formatOk = parsed.detached && parsed.signers.length === 1 && !!signer?.signedAttributesDer && signer.contentType === OID.data && signer.digestAlgorithm === OID.sha256;
  if (!formatOk) messages.push({ zh: '签名格式不符（应为分离式、单一签名者、含签名属性、SHA-256）', en: 'Unexpected signature form (expected detached, one signer, signed attributes, SHA-256)' });
  if (!signer) return report;

  const certDer = findSignerCertificate(signer, parsed.certificates);
  const cert = certDer ? new X509Certificate(certDer) : null;
  const signingCertificateOk = !!certDer && !!signer.signingCertificateHash && signer.signingCertificateHashAlgorithm === OID.sha256 && createHash('sha256').update(certDer).digest().equals(signer.signingCertificateHash);
  if (!signingCertificateOk) messages.push({ zh: '未找到签名证书，或签名证书引用（signing-certificate-v2）与之不符', en: 'The signing certificate is missing or does not match its reference (signing-certificate-v2)' });
  const digestOk = !!signer.messageDigest && signer.messageDigest.equals(input.coveredSha256);
  if (!digestOk) messages.push({ zh: '文件内容与签名不符（摘要不一致）：签名后文件被改动过，或不是所签的文件', en: 'The content does not match the signature (digest mismatch): changed after signing, or not the file signed' });
  const signatureOk = !!certDer && verifySignerSignature(signer, certDer);
  if (certDer && !signatureOk) messages.push({ zh: '签名值验证失败', en: 'The signature value does not verify' });
  const trusted = cas ?? (await trustedCas(db));
  const chain = cert ? chainOf(cert, trusted) : null;
  const claimedTime = input.claimedTime ?? signer.signingTime ?? null;
  // I2: not ours — a seal another platform filed here is judged by that platform's trust list entry.
  const external = cert && !chain ? await recogniseExternal(db, { signer: certDer!, maker: null, sealDer: null, at: claimedTime ?? input.now, now: input.now }) : null;
  if (cert && !chain && !external) {
    messages.push({ zh: '签名证书不是由本平台签发的（无法链接到平台根证书），也不是互认平台在本平台备案的印章证书', en: 'The signing certificate was not issued by this platform (no chain to the platform root), nor filed here by a recognised platform' });
  }

  const ts = judgeTimestamp(signer, trusted, messages);
  report.timestamp = ts;
  report.signing_time.timestamp = ts?.valid && ts.trusted ? ts.time : null;
  let poe: Date | null = null;
  let seal: Record<string, any> | undefined;
  if (cert && chain) {
    seal = await db('seals as s')
      .join('holders as h', 'h.id', 's.holder_id')
      .where('s.certificate_serial', serialHex(signer.serial!))
      .first('s.id', 's.seal_code', 's.kind', 's.text', 's.status', 's.certificate_der', 's.revoked_at', 's.revocation_reason', 's.hold_since', 'h.name as holder_name', 'h.uscc');
    if (seal && !Buffer.from(seal.certificate_der).equals(certDer!)) seal = undefined;
    if (seal) {
      const entry = await db('seal_use_register')
        .where({ seal_id: seal.id, signature_sha256: createHash('sha256').update(signer.signature).digest('hex') })
        .first('id', 'signed_at', 'document_sha256');
      if (entry && entry.document_sha256 === input.coveredSha256.toString('hex')) {
        poe = new Date(entry.signed_at);
        report.use_register_id = entry.id;
        report.signing_time.use_register = poe.toISOString();
      }
    }
  }
  report.signing_time.claimed = claimedTime ? claimedTime.toISOString() : null;

  // The timestamp proves the signature existed at its time; without one, the use register does.
  const proven = ts?.valid && ts.trusted ? new Date(ts.time) : poe;
  if (ts?.valid && ts.trusted && input.level !== 'PKCS7-B') {
    report.signature_format = input.level === 'CAdES-BASELINE-B' ? 'CAdES-BASELINE-T' : input.longTermData ? 'PAdES-BASELINE-LT' : 'PAdES-BASELINE-T';
  }
  if (external) {
    report.signing_time.claimed = claimedTime ? claimedTime.toISOString() : null;
    report.certificate = certificateView(cert!);
    reportExternal(report, external, {
      formatOk,
      digestOk,
      signatureOk,
      signingCertificateOk,
      poe: proven,
      claimedTime,
      certificate: { notBefore: new Date(cert!.validFrom), notAfter: new Date(cert!.validTo) },
      now: input.now,
    });
    if (input.covers.kind === 'byte_range' && !input.covers.whole_document) {
      messages.push({ zh: '此签名之后文件有增量更新（如后续的签章）；签名只覆盖其签署时的版本', en: 'The file was updated incrementally after this signature (e.g. a later signature); it covers the version it signed' });
    }
    return report;
  }
  const c = conclude({
    formatOk,
    digestOk,
    signatureOk,
    signingCertificateOk,
    chainOk: !!chain,
    poe: proven,
    claimedTime,
    certificate: cert ? { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) } : { notBefore: input.now, notAfter: input.now },
    revokedAt: seal?.revoked_at ? new Date(seal.revoked_at) : null,
    holdSince: seal?.hold_since ? new Date(seal.hold_since) : null,
    now: input.now,
  });
  report.indication = c.indication;
  report.sub_indication = c.subIndication;
  report.checks = { format: formatOk, message_digest: digestOk, signature_value: signatureOk, signing_certificate: signingCertificateOk, chain: !!chain };
  report.certificate = cert ? certificateView(cert) : null;
  report.chain = chain ? chain.map((x, i) => ({ ...certificateView(x), role: (['signer', 'issuing_ca', 'root'] as const)[i] })) : [];
  report.certificate_status = {
    at_signing_time: chain ? c.statusAtSigningTime : 'unknown',
    now: chain ? c.statusNow : 'unknown',
    revoked_at: seal?.revoked_at ? new Date(seal.revoked_at).toISOString() : null,
    revocation_reason: seal?.revocation_reason ?? null,
    on_hold_since: seal?.hold_since ? new Date(seal.hold_since).toISOString() : null,
  };
  if (seal) {
    report.seal = {
      id: seal.id,
      seal_code: seal.seal_code,
      kind: seal.kind,
      kind_zh: SEAL_KIND_LABELS[seal.kind as SealKind]?.zh ?? seal.kind,
      text: seal.text,
      status_now: seal.status,
      holder: { name: seal.holder_name, uscc: seal.uscc },
    };
    // The register entry exists only for a signature the HSM made while the seal was active (the signing
    // activity checks the status right before the key is used).
    report.seal_live_when_signed = poe ? true : null;
    if (!poe) messages.push({ zh: '用印登记中没有这次签章：无法证明签章时间及当时印章状态', en: 'This signature is not in the use register: its time and the seal\'s status then cannot be proven' });
  }
  if (input.covers.kind === 'byte_range' && !input.covers.whole_document) {
    messages.push({ zh: '此签名之后文件有增量更新（如后续的签章）；签名只覆盖其签署时的版本', en: 'The file was updated incrementally after this signature (e.g. a later signature); it covers the version it signed' });
  }
  if (c.statusNow === 'revoked') messages.push({ zh: '该印章的证书现已撤销', en: "The seal's certificate is now revoked" });
  if (c.statusNow === 'on_hold') messages.push({ zh: '该印章现已暂停使用（证书挂起）', en: 'The seal is now suspended (certificate on hold)' });
  return report;
}

/** The signature-timestamp token, if any: its own signature, that it covers this signature value, its TSA's chain to the root. */
function judgeTimestamp(signer: ParsedSignerInfo, cas: TrustedCas, messages: SignatureReport['messages']): SignatureReport['timestamp'] {
  if (!signer.signatureTimeStampToken) return null;
  let t;
  try {
    t = parseTimeStampToken(signer.signatureTimeStampToken);
  } catch {
    messages.push({ zh: '签名时间戳无法解析', en: 'The signature timestamp cannot be parsed' });
    return { time: new Date(0).toISOString(), tsa: null, serial: '', policy: '', valid: false, trusted: false };
  }
  const alg = TSP_HASHES[t.hashAlgorithm];
  const coversSignature = !!alg && createHash(alg.name).update(signer.signature).digest().equals(t.hashedMessage);
  const valid = t.signatureValid && coversSignature;
  if (!valid) messages.push({ zh: '签名时间戳无效（签名不符或不是对此签名值的时间戳）', en: 'The signature timestamp is invalid (its signature fails, or it is not over this signature value)' });
  const tsaCert = t.tsaCertificate ? new X509Certificate(t.tsaCertificate) : null;
  const trusted = !!tsaCert && t.timeStampingCertificate && !!chainOf(tsaCert, cas);
  if (valid && !trusted) messages.push({ zh: '签名时间戳不是由本平台信任的时间戳服务签发的：不作为签名时间的证明', en: 'The signature timestamp is not from a time-stamping authority this platform trusts: not taken as proof of the signing time' });
  return { time: t.genTime.toISOString(), tsa: tsaCert ? tsaCert.subject.replace(/\n/g, ', ') : null, serial: t.serialHex, policy: t.policy, valid, trusted };
}

export interface VerifyRequest {
  file: IncomingFile | null;
  signature: IncomingFile | null;
  /**
   * pki.padesStreamAboveBytes: a staged PDF larger than this is read from disk (objects on lookup, ranges
   * hashed as streams), so a PDF up to the upload limit verifies with flat memory. Default: above PADES_MAX_BYTES.
   */
  streamPdfAboveBytes?: number;
}

/** POST /api/verifications: a file and its detached .p7s, or a signed PDF alone (its PAdES signatures). */
export async function verifyDocument(db: Db, req: VerifyRequest, now = new Date()): Promise<VerificationReport> {
  const v = new ValidationCollector();
  if (!req.file) v.add(requiredField(VERIFY_FIELDS.file));
  else if (req.file.truncated) v.add(invalidField(VERIFY_FIELDS.file, '过大', 'is too large', { code: 'UPLOAD_TOO_LARGE', httpStatus: 413 }));
  if (!req.signature && req.file && !req.file.truncated && req.file.contentType === 'application/pdf') {
    v.throwIfAny();
    return verifyPdf(db, req.file, now, req.streamPdfAboveBytes ?? PADES_MAX_BYTES);
  }
  if (!req.signature && req.file && !req.file.truncated && req.file.contentType === null && req.file.size <= OFD_MAX_BYTES) {
    // An OFD document carries its signatures (GB/T 33190 §18).
    const bytes = await req.file.readBytes();
    if (bytes.subarray(0, 4).equals(ZIP_MAGIC)) {
      v.throwIfAny();
      const signatures = await judgeOfdSignatures(db, bytes, VERIFY_FIELDS.file, now);
      return { validation_time: now.toISOString(), policy: POLICY, document: { name: req.file.filename, size: req.file.size, sha256: req.file.sha256 }, signatures };
    }
  }
  if (!req.signature) v.add(requiredField(VERIFY_FIELDS.signature));
  else if (req.signature.truncated) v.add(invalidField(VERIFY_FIELDS.signature, `超过 ${MAX_SIGNATURE_BYTES / 1024} KiB`, `exceeds ${MAX_SIGNATURE_BYTES / 1024} KiB`, { code: 'UPLOAD_TOO_LARGE', httpStatus: 413 }));
  v.throwIfAny();
  const file = req.file!;
  const cms = await req.signature!.readBytes();
  const sig = await judgeSignature(db, {
    id: 'S-1',
    cms,
    coveredSha256: Buffer.from(file.sha256, 'hex'),
    covers: { kind: 'whole_file', whole_document: true },
    level: 'CAdES-BASELINE-B',
    now,
  });
  return { validation_time: now.toISOString(), policy: POLICY, document: { name: file.filename, size: file.size, sha256: file.sha256 }, signatures: [sig] };
}

/** How verifyPdf reads the document: whole in memory, or from its staging file (large PDFs). */
interface PdfSource {
  size: number;
  /** The form's signatures and the DSS are read from this (the parsed document, or a lazily opened one). */
  doc: PDFDocument | LazyPdf['doc'];
  digest(byteRange: number[]): Promise<Buffer | null>;
  /** DocMDP P=2/3 changes after `end`, or null when this reader cannot tell without reading page content. */
  changesAfter(end: number): Promise<string[] | null>;
}

/** Every signature of a PDF (PAdES), each judged over its own ByteRange; later updates are reported. */
async function verifyPdf(db: Db, file: IncomingFile, now: Date, streamAboveBytes: number): Promise<VerificationReport> {
  if (file.path !== undefined && file.size > streamAboveBytes) {
    const path = file.path;
    let lazy: LazyPdf;
    try {
      lazy = await openPdfLazily(path);
    } catch {
      throw unreadablePdf();
    }
    try {
      return await verifyPdfFrom(db, file, now, {
        size: file.size,
        doc: lazy.doc,
        digest: (br) => byteRangeDigestOfFile(path, br),
        changesAfter: (end) => changesFromDisk(path, lazy, end),
      });
    } finally {
      lazy.close();
    }
  }
  if (file.size > PADES_MAX_BYTES) throw invalidField(VERIFY_FIELDS.file, `PDF 最大 ${PADES_MAX_BYTES / 1024 / 1024} MiB`, `a PDF is at most ${PADES_MAX_BYTES / 1024 / 1024} MiB`, { code: 'UPLOAD_TOO_LARGE', httpStatus: 413 });
  const pdf = await file.readBytes();
  // Parsed once for the signatures and the DSS (each parsed it again: a PDF's parse is most of its verification).
  let doc: PDFDocument;
  try {
    doc = await pdfForReading(pdf);
  } catch {
    throw unreadablePdf();
  }
  return verifyPdfFrom(db, file, now, {
    size: pdf.length,
    doc,
    digest: (br) => Promise.resolve(byteRangeDigest(pdf, br)),
    changesAfter: (end) => disallowedChangesAfter(pdf, end).catch(() => ['the later revisions cannot be read']),
  });
}

/**
 * DocMDP from disk: the revision a signature covers opened lazily beside the whole file, compared without
 * reading content (an object's entry unchanged means its bytes are). Null: not judged (an object reached
 * cannot be parsed, not even its dictionary).
 */
async function changesFromDisk(path: string, whole: LazyPdf, end: number): Promise<string[] | null> {
  let revision: LazyPdf;
  try {
    revision = await openPdfLazily(path, end);
  } catch {
    return ['the later revisions cannot be read'];
  }
  try {
    const same = (a: ReturnType<LazyPdf['xref']['entries']['get']>, b: typeof a) =>
      !!a && !!b && (a.kind === 'offset' ? b.kind === 'offset' && a.offset === b.offset && a.gen === b.gen : b.kind === 'compressed' && a.stream === b.stream && a.index === b.index);
    const redefined = (ref: { objectNumber: number }) => !same(revision.xref.entries.get(ref.objectNumber), whole.xref.entries.get(ref.objectNumber));
    return disallowedChangesBetween(revision.doc, whole.doc, redefined, (doc, ref) => (doc === revision.doc ? revision : whole).streamDictionary(ref));
  } catch {
    return ['the later revisions cannot be read'];
  } finally {
    revision.close();
  }
}

const unreadablePdf = () => invalidField(VERIFY_FIELDS.file, '无法读取此 PDF（已加密、损坏或不支持）', 'cannot be read as a PDF (encrypted, damaged or unsupported)', { code: 'PDF_UNREADABLE' });

async function verifyPdfFrom(db: Db, file: IncomingFile, now: Date, pdf: PdfSource): Promise<VerificationReport> {
  let found;
  try {
    found = await readPdfSignatures(pdf.doc);
  } catch {
    throw unreadablePdf();
  }
  if (found.length === 0) {
    throw invalidField(VERIFY_FIELDS.file, '中没有签名；其他文件请同时提交其 .p7s 签名（字段 signature）', 'has no signature; for other files send the .p7s too (field signature)', { code: 'NO_SIGNATURE_FOUND', httpStatus: 422 });
  }
  const cas = await trustedCas(db);
  // B-LT: revocation data in the DSS, added (by its nature) in an update after the signatures it serves.
  const dss = await readDss(pdf.doc).catch(() => null);
  const hasRevocationData = !!dss && dss.ocspResponses.length + dss.crls.length > 0;
  const signatures: SignatureReport[] = [];
  for (const [i, s] of found.entries()) {
    const covered = await pdf.digest(s.byteRange);
    const report = await judgeSignature(
      db,
      {
        id: `S-${i + 1}`,
        cms: covered ? s.cms : Buffer.alloc(0), // a ByteRange outside the file is a format failure
        coveredSha256: covered ?? Buffer.alloc(32),
        covers: { kind: 'byte_range', byte_range: s.byteRange, whole_document: s.byteRange.length === 4 && s.byteRange[2] + s.byteRange[3] === pdf.size },
        level: s.subFilter === 'ETSI.CAdES.detached' ? 'PAdES-BASELINE-B' : 'PKCS7-B',
        longTermData: hasRevocationData && s.byteRange.length === 4 && s.byteRange[2] + s.byteRange[3] < pdf.size,
        claimedTime: s.signingTime,
        now,
      },
      cas,
    );
    if (s.docMdp !== null && covered) await judgeDocMdp(report, pdf, s.byteRange, s.docMdp);
    signatures.push(report);
  }
  return { validation_time: now.toISOString(), policy: POLICY, document: { name: file.filename, size: file.size, sha256: file.sha256 }, signatures };
}

/**
 * A certification signature (DocMDP) allows later form filling and signatures (P=2, 3; annotations too with
 * P=3) and nothing else: a change of the pages' content after it fails the signature (FORMAT_FAILURE, as
 * EU DSS judges a DocMDP violation), whatever the signature's own checks found.
 */
async function judgeDocMdp(report: SignatureReport, pdf: PdfSource, byteRange: number[], permissions: number): Promise<void> {
  const end = byteRange[2] + byteRange[3];
  const found = end < pdf.size && permissions !== 1 ? await pdf.changesAfter(end) : [];
  if (found === null) {
    // A large PDF (read from disk) updated after a certification with P=2/3 whose changes could not be judged
    // (an object reached that cannot be parsed): not passed either (ETSI EN 319 102-1: the format check is INDETERMINATE).
    report.docmdp = { permissions, violated: false, changes: [] };
    if (report.indication !== 'TOTAL-PASSED') return;
    report.indication = 'INDETERMINATE';
    report.sub_indication = 'FORMAT_FAILURE';
    report.messages.push({
      zh: `此签名为认证签名（DocMDP P=${permissions}），其后文件有更新；该大文件中有对象无法解析，平台无法判断该更新是否为允许的改动，结果无法确定`,
      en: `This is a certification signature (DocMDP P=${permissions}) and the file was updated after it; in this large file an object cannot be parsed, so the platform cannot tell whether the update is an allowed change and the result is indeterminate`,
    });
    return;
  }
  let changes = found;
  if (permissions === 3) changes = changes.filter((c) => !c.includes('annotation'));
  const violated = permissions === 1 ? end < pdf.size : changes.length > 0;
  report.docmdp = { permissions, violated, changes };
  if (!violated) return;
  report.indication = 'TOTAL-FAILED';
  report.sub_indication = 'FORMAT_FAILURE';
  report.messages.push({
    zh: `此签名为认证签名（DocMDP P=${permissions}），其后文件内容被改动：${changes.join('；') || '有更新'}`,
    en: `This is a certification signature (DocMDP P=${permissions}) and the content was changed after it: ${changes.join('; ') || 'updated'}`,
  });
}

/**
 * The public verification page (U2, P2): the same report, with the imprint of each seal that signed, so a
 * person sees what the seal looks like. An imprint is public: it is drawn on every document the seal signs.
 */
export async function verifyDocumentForPerson(db: Db, req: VerifyRequest, now = new Date()): Promise<{ report: VerificationReport; imprints: Record<string, string> }> {
  const report = await verifyDocument(db, req, now);
  const ids = (external: boolean) => [...new Set(report.signatures.flatMap((s) => (s.seal && !!s.platform === external ? [s.seal.id] : [])))];
  const [ours, filed] = [ids(false), ids(true)];
  const rows: Array<{ id: string; imprint_png: Buffer | null }> = ours.length ? await db('seals').whereIn('id', ours).select('id', 'imprint_png') : [];
  // I2: a filed seal's imprint as its platform sent it (PNG or JPEG; a picture of another type is not shown).
  const filedRows: Array<{ id: string; imprint: Buffer | null; imprint_type: string | null }> = filed.length ? await db('external_seals').whereIn('id', filed).select('id', 'imprint', 'imprint_type') : [];
  const IMAGE_TYPES = new Map([['png', 'image/png'], ['jpeg', 'image/jpeg'], ['jpg', 'image/jpeg']]);
  const mime = (t: string | null) => IMAGE_TYPES.get((t ?? '').toLowerCase());
  const imprints = Object.fromEntries([
    ...rows.filter((r) => r.imprint_png).map((r) => [r.id, `data:image/png;base64,${r.imprint_png!.toString('base64')}`]),
    ...filedRows.filter((r) => r.imprint && mime(r.imprint_type)).map((r) => [r.id, `data:${mime(r.imprint_type)};base64,${r.imprint!.toString('base64')}`]),
  ]);
  return { report, imprints };
}
