// The seal's imprint (S3) and its official documents (M10, M13), rendered once and kept in PostgreSQL.
import { randomUUID } from 'node:crypto';
import type { Db } from '../infra/db';
import { renderImprintAsync } from '../infra/imprint';
import { renderDocumentHtml, type CancellationReason } from '../infra/documents/render';
import type { PdfRenderer } from '../infra/documents/pdf-renderer';
import { sealKindLabel, type SealKind } from '../domain/seals';
import { shanghaiDate } from '../domain/calendar';
import { domainErrorsAreFinal } from './domain-failure';

export type DocumentKind = 'production_certificate' | 'cancellation_certificate';

function sealRecord(db: Db, sealId: string) {
  return db('seals as s')
    .join('cases as c', 'c.id', 's.case_id')
    .join('holders as h', 'h.id', 's.holder_id')
    .join('makers as m', 'm.id', 'c.maker_id')
    .join('districts as d', 'd.code', 'c.district_code')
    .where('s.id', sealId)
    .first('s.*', 'h.name as holder_name', 'h.uscc as holder_uscc', 'm.name as maker_name', 'm.licence_no', 'd.name_zh as district_name', 'c.id as case_id');
}

export function createSealDocumentActivities(db: Db, pdf: () => Promise<PdfRenderer>) {
  return {
    /** S3: the imprint drawn from the seal's text, kind, number and code; its hash is bound later by the platform. */
    async renderImprint({ sealId }: { sealId: string }): Promise<{ imprintSha256: string }> {
      const s = await sealRecord(db, sealId);
      if (s.imprint_sha256) return { imprintSha256: s.imprint_sha256 };
      const kind = s.kind as SealKind;
      const imprint = await domainErrorsAreFinal(() => renderImprintAsync({
        holderName: kind === 'branch' ? s.text : s.holder_name,
        sealKind: kind,
        sealNumber: s.number,
        sealCode: s.seal_code,
        personName: kind === 'personal_name' ? s.person_name : null,
        departmentName: kind === 'internal_department' ? s.text : null,
      }));
      const [updated] = await db('seals')
        .where({ id: sealId })
        .whereNull('imprint_sha256')
        .update({ imprint_svg: imprint.svg, imprint_png: imprint.png, imprint_sha256: imprint.svgSha256 })
        .returning('imprint_sha256');
      const stored = updated ?? (await db('seals').where({ id: sealId }).first('imprint_sha256')); // a concurrent retry's
      return { imprintSha256: stored.imprint_sha256 };
    },

    /** 《电子印章制作证书》 or 《电子印章登出证书》 as HTML and PDF; once per seal and kind. */
    async produceDocument({ sealId, kind, reason }: { sealId: string; kind: DocumentKind; reason: CancellationReason | null }): Promise<{ documentId: string }> {
      // The seal, the document if already made, and the filing dates in one round trip.
      const s = await sealRecord(db, sealId).select(
        db.raw('(select d.id from documents d where d.seal_id = s.id and d.kind = ?) as existing_document_id', [kind]),
        db.raw(`(select f.accepted_at from filing_deadlines f where f.case_id = c.id and f.kind = 'production') as production_filed_at`),
      );
      if (s.existing_document_id) return { documentId: s.existing_document_id };
      const year = shanghaiDate(new Date()).slice(0, 4);
      const seq = kind === 'production_certificate' ? 'production_certificate_no' : 'cancellation_certificate_no';
      const { rows } = await db.raw(`select nextval('${seq}') as n`);
      const n = String(rows[0].n).padStart(6, '0');
      const common = {
        holder: { name: s.holder_name, uscc: s.holder_uscc },
        seal: { kindLabel: sealKindLabel(s.kind), number: s.number, code: s.seal_code },
        maker: { name: s.maker_name, licenceNumber: s.licence_no },
        policeOffice: `北京市公安局${s.district_name.replace(/区$/, '')}分局`,
        imprint: s.imprint_png ? { mediaType: 'image/png' as const, bytes: s.imprint_png as Buffer } : null,
      };
      let html: string;
      let documentNo: string;
      if (kind === 'production_certificate') {
        documentNo = `京章制证〔${year}〕第${n}号`;
        html = renderDocumentHtml('production-certificate', {
          ...common,
          imprint: common.imprint!,
          documentNumber: documentNo,
          certificate: { serial: s.certificate_serial, sha256Fingerprint: s.certificate_fingerprint },
          producedAt: new Date(s.produced_at),
          filedAt: new Date(s.production_filed_at ?? s.ready_at),
          issuedAt: new Date(s.collected_at ?? Date.now()),
        });
      } else {
        documentNo = `京章登证〔${year}〕第${n}号`;
        html = renderDocumentHtml('cancellation-certificate', {
          ...common,
          documentNumber: documentNo,
          // A seal cancelled before its certificate was issued has neither serial nor revocation.
          certificate: { serial: s.certificate_serial ?? null, sha256Fingerprint: s.certificate_fingerprint },
          reason: reason ?? 'holder_request',
          cancelledAt: new Date(s.cancelled_at),
          revokedAt: s.certificate_serial ? new Date(s.revoked_at ?? s.cancelled_at) : null,
        });
      }
      const pdfBytes = await (await pdf()).render(html);
      const [inserted] = await db('documents')
        .insert({ id: randomUUID(), seal_id: sealId, kind, document_no: documentNo, html, pdf: pdfBytes })
        .onConflict(['seal_id', 'kind'])
        .ignore()
        .returning('id');
      const row = inserted ?? (await db('documents').where({ seal_id: sealId, kind }).first('id')); // a concurrent retry's
      return { documentId: row.id };
    },
  };
}
