// Lookup of a person's records by resident ID number (P1, P3): the ID number is stored only encrypted, so
// records are found by its keyed hash. For the police: officers see their district's records, supervisors
// the city's. The ID number travels in the request body (never in a URL or an access log) and each lookup
// is written to the audit trail before anything is answered.
import type { Knex } from 'knex';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { auditRead } from '../infra/audit/log';
import { personalData } from '../infra/crypto/personal-data';
import { identityFields, identityKey, parseIdentityDocumentOf } from '../domain/identity-documents';
import type { Actor } from '../domain/actor';
import { forbidden } from '../domain/refusals';

export type PersonRole = 'handler' | 'legal_representative' | 'seal_person' | 'keeper';

export interface PersonRecord {
  role: PersonRole;
  case_id: string;
  case_kind: string;
  case_status: string;
  district_code: string;
  holder: { id: string; uscc: string; name: string };
  seal: { id: string; kind: string; number: number | null; seal_code: string | null; status: string } | null;
  /** Keepers only: whether the person still keeps the seal. */
  current?: boolean;
}

const ID_FIELDS = identityFields('', '', "The person's");

export async function lookupPersonByResidentId(deps: { db: Db; hsm?: Hsm }, actor: Actor, body: unknown): Promise<{ records: PersonRecord[] }> {
  if (actor.role !== 'officer' && actor.role !== 'supervisor') throw forbidden('Looking up a person is for police officers and supervisors', '按身份号码查询仅供民警和督导人员使用');
  const idNumber = identityKey(parseIdentityDocumentOf((body ?? {}) as Record<string, unknown>, '', ID_FIELDS));
  const hash = await personalData(deps).idLookupHash(idNumber);
  // The hash names the person in the audit trail without the ID number itself.
  await auditRead(deps.db, actor, { action: 'person.lookup', targetType: 'person', targetId: hash });
  const { db } = deps;
  const scoped = (q: Knex.QueryBuilder) => (actor.role === 'officer' ? q.where('c.district_code', actor.districtCode) : q);
  const columns = ['c.id as case_id', 'c.kind as case_kind', 'c.status as case_status', 'c.district_code', 'h.id as holder_id', 'h.uscc', 'h.name as holder_name', 's.id as seal_id', 's.kind as seal_kind', 's.number as seal_number', 's.seal_code', 's.status as seal_status'];
  const caseSeal = function (this: Knex.JoinClause) {
    this.on('s.case_id', 'c.id').orOn('s.id', 'c.subject_seal_id');
  };
  const [asHandler, asLegalRep, asPerson, asKeeper] = await Promise.all([
    scoped(db('cases as c').join('holders as h', 'h.id', 'c.holder_id').leftJoin('seals as s', caseSeal).where('c.handler_id_number_hmac', hash)).select(columns),
    scoped(db('cases as c').join('holders as h', 'h.id', 'c.holder_id').leftJoin('seals as s', caseSeal).where('c.legal_rep_id_number_hmac', hash)).select(columns),
    scoped(db('seals as s').join('cases as c', 'c.id', 's.case_id').join('holders as h', 'h.id', 'c.holder_id').where('s.person_id_number_hmac', hash)).select(columns),
    scoped(db('seal_keepers as k').join('seals as s', 's.id', 'k.seal_id').join('cases as c', 'c.id', 's.case_id').join('holders as h', 'h.id', 'c.holder_id').where('k.id_number_hmac', hash)).select([...columns, db.raw('k.removed_at is null as current')]),
  ]);
  const record = (role: PersonRole) => (r: Record<string, any>): PersonRecord => ({
    role,
    case_id: r.case_id,
    case_kind: r.case_kind,
    case_status: r.case_status,
    district_code: r.district_code,
    holder: { id: r.holder_id, uscc: r.uscc, name: r.holder_name },
    seal: r.seal_id ? { id: r.seal_id, kind: r.seal_kind, number: r.seal_number, seal_code: r.seal_code, status: r.seal_status } : null,
    ...(role === 'keeper' ? { current: !!r.current } : {}),
  });
  return {
    records: [...asHandler.map(record('handler')), ...asLegalRep.map(record('legal_representative')), ...asPerson.map(record('seal_person')), ...asKeeper.map(record('keeper'))],
  };
}
