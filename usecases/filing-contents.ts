// M3: what a police filing carries, assembled by the platform from what the case holds — the holder, its legal
// representative, the handler and the check of the handler's original ID, the on-site image, the production
// data, the seal and its certificate — so the maker confirms it in one step instead of typing it. The filing
// row is a record (append-only, M5): a return and a new submission make a new round, never an edit. ID numbers
// and phones go into it masked; the full values stay encrypted in the case (P1), one click away for the officer.
import { X509Certificate } from 'node:crypto';
import { maskIdentityKey } from '../domain/identity-documents';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { personalData } from '../infra/crypto/personal-data';
import { productionRecordVersions } from './production-record-versions';

export const FILING_SCHEMA = 'm3-filing/v1';

const maskPhone = (p: string | null) => (p ? (p.length <= 4 ? '*'.repeat(p.length) : `${p.slice(0, 3)}${'*'.repeat(Math.max(0, p.length - 7))}${p.slice(-4)}`) : null);

export interface FilingContents {
  schema: typeof FILING_SCHEMA;
  holder: { uscc: string; name: string; kind: string; district_code: string; address: string | null; registration_date: string | null; source: string };
  legal_representative: { name: string | null; id_number_masked: string | null; contact_masked: string | null } | null;
  handler: { name: string; id_number_masked: string; phone_masked: string | null };
  original_id_check: { id_type: string; checked_by: string; checked_at: string } | null;
  on_site_image: { material_id: string } | null;
  production: { record_id: string; version: number; data: unknown; recorded_at: string } | null;
  seal: { kind: string; number: number | null; text: string | null; seal_code: string | null; imprint_sha256: string | null };
  certificate: { serial: string | null; fingerprint: string | null; issuer: string | null; not_before: string | null; not_after: string | null };
  maker: { name: string; licence_no: string | null };
}

/** The filing of `caseId` as the platform assembles it now (the maker's note and a change's reason are added by the caller). */
export async function assembleFilingContents(deps: { db: Db; hsm?: Hsm }, caseId: string, sealId: { subjectSealId: string | null }): Promise<FilingContents> {
  const { db } = deps;
  const c = await db('cases as c').join('holders as h', 'h.id', 'c.holder_id').join('makers as m', 'm.id', 'c.maker_id').where('c.id', caseId)
    .first(
      'c.handler_name', 'c.handler_id_number', 'c.handler_phone', 'c.legal_rep_name', 'c.legal_rep_id_number', 'c.legal_rep_phone',
      'h.uscc', 'h.name as holder_name', 'h.kind as holder_kind', 'h.district_code', 'h.address', 'h.source', 'h.legal_representative',
      db.raw(`to_char(h.registration_date, 'YYYY-MM-DD') as registration_date`), 'm.name as maker_name', 'm.licence_no',
    );
  const seal = await db('seals').where(sealId.subjectSealId ? { id: sealId.subjectSealId } : { case_id: caseId })
    .first('kind', 'number', 'text', 'seal_code', 'imprint_sha256', 'certificate_serial', 'certificate_fingerprint', 'certificate_der');
  const check = await db('id_document_checks as k').join('users as u', 'u.id', 'k.checked_by').where('k.case_id', caseId).orderBy('k.checked_at', 'desc')
    .first('k.id_type', 'u.display_name', 'k.checked_at');
  // The version in effect (a correction waiting for an officer is not filed), as readers see it (M5).
  const current = (await productionRecordVersions(db, caseId)).find((v) => v.state === 'current');
  const recordId = current ? (await db('production_records').where({ case_id: caseId, version: current.version }).first('id')).id as string : null;
  const pd = personalData(deps);
  const place = (column: string) => ({ table: 'cases', column, row: caseId });
  const [handlerId, handlerPhone, repId, repPhone] = await Promise.all([
    pd.decrypt(c.handler_id_number, place('handler_id_number')),
    pd.decrypt(c.handler_phone, place('handler_phone')),
    pd.decrypt(c.legal_rep_id_number, place('legal_rep_id_number')),
    pd.decrypt(c.legal_rep_phone, place('legal_rep_phone')),
  ]);
  let certificate: FilingContents['certificate'] = { serial: seal?.certificate_serial ?? null, fingerprint: seal?.certificate_fingerprint ?? null, issuer: null, not_before: null, not_after: null };
  if (seal?.certificate_der) {
    const x = new X509Certificate(seal.certificate_der);
    certificate = { ...certificate, issuer: x.issuer.replace(/\n/g, ', '), not_before: new Date(x.validFrom).toISOString(), not_after: new Date(x.validTo).toISOString() };
  }
  const repName = c.legal_rep_name ?? c.legal_representative ?? null;
  return {
    schema: FILING_SCHEMA,
    holder: { uscc: c.uscc, name: c.holder_name, kind: c.holder_kind, district_code: c.district_code, address: c.address ?? null, registration_date: c.registration_date ?? null, source: c.source },
    legal_representative: repName || repId || repPhone ? { name: repName, id_number_masked: repId ? maskIdentityKey(repId) : null, contact_masked: maskPhone(repPhone) } : null,
    handler: { name: c.handler_name, id_number_masked: handlerId ? maskIdentityKey(handlerId) : '', phone_masked: maskPhone(handlerPhone) },
    original_id_check: check ? { id_type: check.id_type, checked_by: check.display_name, checked_at: new Date(check.checked_at).toISOString() } : null,
    on_site_image: current ? { material_id: current.on_site_image_id } : null,
    production: current && recordId ? { record_id: recordId, version: current.version, data: current.data, recorded_at: current.created_at } : null,
    seal: { kind: seal?.kind, number: seal?.number ?? null, text: seal?.text ?? null, seal_code: seal?.seal_code ?? null, imprint_sha256: seal?.imprint_sha256 ?? null },
    certificate,
    maker: { name: c.maker_name, licence_no: c.licence_no ?? null },
  };
}

/** The filing recorded for an officer's filing-review task (the round the task reviews), or null. */
export async function filingOfTask(db: Db, taskId: string): Promise<{ id: string; kind: string; round: number; late: boolean; submitted_at: string; data: Record<string, unknown> } | null> {
  const f = await db('filings').where({ task_id: taskId }).first('id', 'kind', 'round', 'late', 'submitted_at', 'data');
  return f ? { ...f, submitted_at: new Date(f.submitted_at).toISOString() } : null;
}
