// U2 P2: the verification report as a PDF signed by the platform. The report the platform made is kept in
// verification_report_copies (usecases/verification-report.ts); the workflow `verification-report:<id>` has
// the main worker render it (Chromium) and the HSM worker sign it with the platform signing key (PAdES, no
// imprint: the platform is not a seal). Both steps write their result into the row once, so a retry or a
// second download finds it there; only the row id passes through Temporal, never a PDF.
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { toDerEcdsaSignature } from '../infra/hsm/hsm';
import type { PdfRenderer } from '../infra/documents/pdf-renderer';
import { renderDocumentHtml, type ImprintImage, type VerifiedSignatureData } from '../infra/documents/render';
import type { PlatformSigningKey } from '../infra/pki/platform';
import { signPdf } from '../infra/signing/pades';
import { assembleSignedData, buildSignedAttributes } from '../infra/signing/cms';
import { CERTIFICATE_STATUS_LABELS, INDICATION_LABELS, type CertificateStatus, type Indication } from '../domain/signature-validation';
import { DomainError } from '../domain/errors';
import { sealKindLabel, type SealKind } from '../domain/seals';
import { issuingChain } from './seal-document-signing';

export const PLATFORM_NAME = { zh: '北京市电子印章管理服务平台', en: 'Beijing electronic seal platform' } as const;

/** The stored report: the fields of usecases/verification.ts VerificationReport this document shows. */
interface StoredReport {
  validation_time: string;
  policy: string;
  document: { name: string; size: number; sha256: string };
  signatures: Array<{
    id: string;
    indication: Indication;
    sub_indication: string | null;
    signature_format: string;
    checks: { format: boolean; message_digest: boolean; signature_value: boolean; signing_certificate: boolean; chain: boolean };
    covers: { whole_document: boolean; byte_range?: number[] };
    signing_time: { claimed: string | null; use_register: string | null; timestamp?: string | null };
    timestamp?: null | { time: string; tsa: string | null; serial: string; valid: boolean; trusted: boolean };
    docmdp?: null | { violated: boolean };
    seal: null | { id: string; seal_code: string | null; kind: string; text: string; holder: { name: string; uscc: string } };
    seal_live_when_signed: boolean | null;
    chain: Array<{ role: string; subject: string; serial: string; fingerprint_sha256: string }>;
    certificate_status: { at_signing_time: CertificateStatus; now: CertificateStatus; revoked_at: string | null; on_hold_since: string | null };
    messages: Array<{ zh: string; en: string }>;
    platform?: { code: string; name: string };
  }>;
}

const reportGone = () =>
  new DomainError({ code: 'REPORT_EXPIRED', httpStatus: 410, messageZh: '验证报告已过期，请重新上传文件验证', messageEn: 'The verification report has expired; upload the file again to verify it' });

const date = (v: string | null | undefined) => (v ? new Date(v) : null);

/** The seals' numbers and imprints (ours: PNG; a recognised platform's: its PNG only, the renderer takes no other). */
async function sealExtras(db: Db, report: StoredReport) {
  const ours = report.signatures.flatMap((s) => (s.seal && !s.platform ? [s.seal.id] : []));
  const filed = report.signatures.flatMap((s) => (s.seal && s.platform ? [s.seal.id] : []));
  const rows: Array<{ id: string; number: number | null; imprint_png: Buffer | null }> = ours.length ? await db('seals').whereIn('id', ours).select('id', 'number', 'imprint_png') : [];
  const filedRows: Array<{ id: string; number: number | null; imprint: Buffer | null; imprint_type: string | null }> = filed.length
    ? await db('external_seals').whereIn('id', filed).select('id', 'number', 'imprint', 'imprint_type')
    : [];
  const extras = new Map<string, { number: number | null; imprint: ImprintImage | null }>();
  for (const r of rows) extras.set(r.id, { number: r.number, imprint: r.imprint_png ? { mediaType: 'image/png', bytes: Buffer.from(r.imprint_png) } : null });
  for (const r of filedRows) extras.set(r.id, { number: r.number, imprint: r.imprint && (r.imprint_type ?? '').toLowerCase() === 'png' ? { mediaType: 'image/png', bytes: Buffer.from(r.imprint) } : null });
  return extras;
}

function signatureData(s: StoredReport['signatures'][number], extras: Awaited<ReturnType<typeof sealExtras>>): VerifiedSignatureData {
  const extra = s.seal ? extras.get(s.seal.id) : undefined;
  return {
    id: s.id,
    indication: { code: s.indication, label: INDICATION_LABELS[s.indication] },
    subIndication: s.sub_indication,
    format: s.signature_format,
    seal: s.seal ? { holderName: s.seal.holder.name, uscc: s.seal.holder.uscc, kindLabel: sealKindLabel(s.seal.kind as SealKind) ?? { zh: s.seal.kind, en: s.seal.kind }, number: extra?.number ?? null, text: s.seal.text, code: s.seal.seal_code } : null,
    platform: s.platform ? { name: s.platform.name, code: s.platform.code } : null,
    imprint: extra?.imprint ?? null,
    signingTime: { claimed: date(s.signing_time.claimed), useRegister: date(s.signing_time.use_register), timestamp: date(s.signing_time.timestamp) },
    timestamp: s.timestamp ? { time: new Date(s.timestamp.time), tsa: s.timestamp.tsa, serial: s.timestamp.serial, valid: s.timestamp.valid, trusted: s.timestamp.trusted } : null,
    chain: s.chain.map((c) => ({ role: c.role, subject: c.subject, serial: c.serial, fingerprint: c.fingerprint_sha256 })),
    status: {
      atSigningTime: CERTIFICATE_STATUS_LABELS[s.certificate_status.at_signing_time],
      now: CERTIFICATE_STATUS_LABELS[s.certificate_status.now],
      revokedAt: date(s.certificate_status.revoked_at),
      onHoldSince: date(s.certificate_status.on_hold_since),
    },
    liveWhenSigned: s.seal_live_when_signed,
    covers: { wholeDocument: s.covers.whole_document, byteRange: s.covers.byte_range ?? null },
    checks: { format: s.checks.format, messageDigest: s.checks.message_digest, signatureValue: s.checks.signature_value, signingCertificate: s.checks.signing_certificate, chain: s.checks.chain },
    docmdpViolated: s.docmdp ? s.docmdp.violated : null,
    messages: s.messages,
  };
}

export function createVerificationReportDbActivities(db: Db, pdf: () => Promise<PdfRenderer>) {
  return {
    /** The report's PDF, unsigned, into its row; once (a retry or a concurrent run keeps the first). */
    async renderVerificationReport({ reportId }: { reportId: string }): Promise<{ rendered: boolean }> {
      const row = await db('verification_report_copies').where({ id: reportId }).first('report', 'detached_signature', db.raw('pdf is not null as has_pdf'));
      if (!row) throw reportGone();
      if (row.has_pdf) return { rendered: false };
      const report = row.report as StoredReport;
      const extras = await sealExtras(db, report);
      let html: string;
      try {
        html = renderDocumentHtml('verification-report', {
          validationTime: new Date(report.validation_time),
          verifier: PLATFORM_NAME,
          policy: report.policy,
          document: report.document,
          detachedSignature: row.detached_signature ?? null,
          signatures: report.signatures.map((s) => signatureData(s, extras)),
        });
      } catch (e) {
        // The view model refuses a value (never expected of a report the platform made): the same on every retry.
        if (e instanceof TypeError) throw ApplicationFailure.nonRetryable(e.message, 'ReportNotRenderable');
        throw e;
      }
      const bytes = await (await pdf()).render(html);
      await db('verification_report_copies').where({ id: reportId }).whereNull('pdf').update({ pdf: bytes });
      return { rendered: true };
    },
  };
}

export function createVerificationReportHsmActivities(deps: { hsm: Hsm; db: Db; platformKey: PlatformSigningKey }) {
  return {
    /** The rendered report signed by the platform signing key (PAdES B-B, no imprint); once per row. */
    async signVerificationReport({ reportId }: { reportId: string }): Promise<{ signed: boolean }> {
      const { db, hsm, platformKey } = deps;
      const row = await db('verification_report_copies').where({ id: reportId }).first('pdf', db.raw('signed_pdf is not null as has_signed'));
      if (!row) throw reportGone();
      if (row.has_signed) return { signed: false };
      if (!row.pdf) throw new Error(`verification report ${reportId} is not rendered yet`);
      const cert = await db('ca_certificates').where({ fingerprint_sha256: platformKey.certificateFingerprint }).first('der');
      const signerCertificate = Buffer.from(cert.der);
      const chain = await issuingChain(db, signerCertificate);
      const signed = await signPdf({
        pdf: Buffer.from(row.pdf),
        placement: { page: 1, sizeMm: 0 }, // an invisible signature: no imprint, the platform is not a seal
        signingTime: new Date(),
        name: PLATFORM_NAME.zh,
        reason: '电子签章验证报告，由平台出具并签署 / Verification report, issued and signed by the platform',
        signCms: async (covered) => {
          const attrs = buildSignedAttributes({ messageDigest: covered, signerCertificate });
          const signature = toDerEcdsaSignature(await hsm.signEcdsaSha256(platformKey.keyLabel, attrs.der));
          return assembleSignedData({ attributes: attrs.attributes, signature, signerCertificate, chain });
        },
      });
      await db('verification_report_copies').where({ id: reportId }).whereNull('signed_pdf').update({ signed_pdf: signed });
      return { signed: true };
    },
  };
}
