// M2: the maker checks the handler's original identity document (原件核验) and records it: who, when, which
// document. The document stated must be the one the handler applied with (same keyed hash), so a check of
// someone else's document is refused rather than recorded. Rows are only added (see the migration).
import { randomUUID } from 'node:crypto';
import { conflict, ruleViolation } from '../domain/errors';
import { IDENTITY_DOCUMENT_LABELS, identityFields, identityKey, maskIdentityKey, parseIdentityDocumentOf } from '../domain/identity-documents';
import { auditRead } from '../infra/audit/log';
import { personalData } from '../infra/crypto/personal-data';
import type { Actor } from '../domain/actor';
import { forbidden, notFound } from '../domain/refusals';
import { assertCanSeeCase } from './applications';
import type { Deps } from './deps';
import { CLOSED_CASE_STATUSES } from '../workflows/application-messages';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FIELDS = identityFields('', '经办人原件', "Handler's original");

type PdDeps = Pick<Deps, 'db' | 'hsm'>;

async function loadCase(deps: PdDeps, caseId: string) {
  if (!UUID.test(caseId)) throw notFound('Case', '案件');
  const c = await deps.db('cases').where({ id: caseId }).first('id', 'maker_id', 'holder_id', 'district_code', 'status', 'handler_id_number', 'handler_id_number_hmac');
  if (!c) throw notFound('Case', '案件');
  return c;
}

async function view(deps: PdDeps, c: { id: string; handler_id_number: string }, rows: Array<Record<string, unknown>>) {
  const handlerKey = await personalData(deps).decrypt(c.handler_id_number, { table: 'cases', column: 'handler_id_number', row: c.id });
  return rows.map((r) => ({
    id: r.id as string,
    person: r.person as string,
    id_type: r.id_type as string,
    id_type_label: IDENTITY_DOCUMENT_LABELS[r.id_type as keyof typeof IDENTITY_DOCUMENT_LABELS],
    id_number_masked: maskIdentityKey(handlerKey),
    checked_by: { id: r.checked_by as string, display_name: r.display_name as string },
    checked_at: new Date(r.checked_at as string).toISOString(),
  }));
}

/** POST by the case's maker: `{ id_type?, id_number, id_country? }` of the original document seen. */
export async function recordIdDocumentCheck(deps: PdDeps, actor: Actor, caseId: string, body: unknown, now = new Date()) {
  const c = await loadCase(deps, caseId);
  if (actor.role !== 'maker' || actor.makerId !== c.maker_id) throw forbidden('Only the maker of this case may record the ID check', '只有本案件的制作单位可以记录原件核验');
  const doc = parseIdentityDocumentOf((body ?? {}) as Record<string, unknown>, '', FIELDS, now);
  if ((CLOSED_CASE_STATUSES as readonly string[]).includes(c.status)) throw conflict('CASE_CLOSED', '案件已办结，不能再记录原件核验', 'The case is closed; no ID check can be recorded');
  const hash = await personalData(deps).idLookupHash(identityKey(doc));
  if (hash !== c.handler_id_number_hmac) {
    throw ruleViolation('ID_CHECK_NOT_HANDLER', '所核验的证件不是申请时登记的经办人证件', 'The document checked is not the one the handler applied with', { field: FIELDS.number });
  }
  const id = randomUUID();
  await deps.db.transaction(async (trx) => {
    await trx('id_document_checks').insert({ id, case_id: c.id, person: 'handler', id_type: doc.type, id_number_hmac: hash, checked_by: actor.userId, checked_at: now });
    await trx('case_events').insert({ case_id: c.id, event_key: `id-check:${id}`, type: 'id_document_checked', data: JSON.stringify({ person: 'handler', id_type: doc.type, id_number_masked: maskIdentityKey(identityKey(doc)) }), actor_id: actor.userId, at: now });
  });
  const row = await deps.db('id_document_checks as k').join('users as u', 'u.id', 'k.checked_by').where('k.id', id).first('k.*', 'u.display_name');
  return (await view(deps, c, [row]))[0]!;
}

/** GET for whoever may see the case: every check, oldest first; the read is audited (P1). */
export async function listIdDocumentChecks(deps: PdDeps, actor: Actor, caseId: string) {
  const c = await loadCase(deps, caseId);
  assertCanSeeCase(actor, c);
  await auditRead(deps.db, actor, { action: 'id_document_check.read', targetType: 'case', targetId: c.id, caseId: c.id });
  const rows = await deps.db('id_document_checks as k').join('users as u', 'u.id', 'k.checked_by').where('k.case_id', c.id).orderBy('k.checked_at').select('k.*', 'u.display_name');
  return { case_id: c.id, checks: await view(deps, c, rows) };
}
