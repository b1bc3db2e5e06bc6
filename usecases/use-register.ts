// C4 用印登记: the holder reads the use register of its seals (filters, CSV). The entries are written by the
// signing workflow (activities/seal-signing.ts) and never changed (M5 trigger).
import type { Db } from '../infra/db';
import { auditRead } from '../infra/audit/log';
import { fieldRef, invalidField, ValidationCollector } from '../domain/errors';
import { parseDocumentType, parseSignatureFormat, DOCUMENT_TYPES, type DocumentType } from '../domain/signing';
import { SEAL_KIND_LABELS, type SealKind } from '../domain/seals';
import type { Actor } from '../domain/actor';
import { forbidden } from '../domain/refusals';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const F = {
  sealId: fieldRef('seal_id', '印章', 'Seal'),
  keeperId: fieldRef('keeper_id', '保管人', 'Keeper'),
  from: fieldRef('from', '起始时间', 'From'),
  to: fieldRef('to', '截止时间', 'To'),
  limit: fieldRef('limit', '条数', 'Limit'),
};
export const REGISTER_MAX_ROWS = 10_000;

export interface UseRegisterEntry {
  id: string;
  seal_id: string;
  seal_code: string | null;
  seal_kind: string;
  keeper_id: string;
  keeper_name: string;
  approver_id: string | null;
  approver_name: string | null;
  use_request_id: string | null;
  purpose: string;
  document_type: string;
  document_type_zh: string;
  document_name: string;
  document_sha256: string;
  format: string;
  signature_sha256: string;
  signed_at: Date;
  requested_by: string;
  channel: string;
  client_address: string | null;
}

function parseInstant(v: unknown, field: typeof F.from): Date | undefined {
  if (v === undefined || v === '') return undefined;
  const d = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(v) ? new Date(v) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw invalidField(field, '应为 ISO 8601 日期或时间（如 2026-12-04 或 2026-12-04T08:00:00+08:00）', 'must be an ISO 8601 date or time (e.g. 2026-12-04 or 2026-12-04T08:00:00+08:00)');
  return d;
}

/** GET /api/use-register: the holder's own entries, newest first; filters seal_id, keeper_id, from, to, document_type, format, limit. */
export async function listUseRegister(db: Db, actor: Actor, query: Record<string, unknown>): Promise<UseRegisterEntry[]> {
  if (actor.role !== 'holder' || !actor.holderId) throw forbidden('Only holder staff read their use register', '只有印章所属单位的人员可以查看用印登记');
  const q = (k: string) => (typeof query[k] === 'string' ? (query[k] as string) : undefined);
  const v = new ValidationCollector();
  const sealId = q('seal_id');
  if (sealId !== undefined && sealId !== '' && !UUID.test(sealId)) v.add(invalidField(F.sealId, '不是有效的编号', 'is not a valid id'));
  const keeperId = q('keeper_id');
  if (keeperId !== undefined && keeperId !== '' && !UUID.test(keeperId)) v.add(invalidField(F.keeperId, '不是有效的编号', 'is not a valid id'));
  const from = v.check(() => parseInstant(q('from'), F.from));
  const to = v.check(() => parseInstant(q('to'), F.to));
  const documentType = q('document_type') ? v.check(() => parseDocumentType(q('document_type'))) : undefined;
  const format = q('format') ? v.check(() => parseSignatureFormat(q('format'))) : undefined;
  let limit = 500;
  if (q('limit') !== undefined) {
    const n = Number(q('limit'));
    if (!Number.isInteger(n) || n < 1 || n > REGISTER_MAX_ROWS) v.add(invalidField(F.limit, `应为 1 到 ${REGISTER_MAX_ROWS} 之间的整数`, `must be a whole number from 1 to ${REGISTER_MAX_ROWS}`));
    else limit = n;
  }
  v.throwIfAny();

  const rows = await db('seal_use_register as r')
    .join('seals as s', 's.id', 'r.seal_id')
    .join('seal_keepers as k', 'k.id', 'r.keeper_id')
    .leftJoin('users as a', 'a.id', 'r.approver_id')
    .where('s.holder_id', actor.holderId)
    .modify((b) => {
      if (sealId) b.where('r.seal_id', sealId);
      if (keeperId) b.where('r.keeper_id', keeperId);
      if (from) b.where('r.signed_at', '>=', from);
      if (to) b.where('r.signed_at', '<', to);
      if (documentType) b.where('r.document_type', documentType);
      if (format) b.where('r.format', format);
    })
    .orderBy('r.signed_at', 'desc')
    .orderBy('r.id')
    .limit(limit)
    .select(
      'r.id', 'r.seal_id', 's.seal_code', 's.kind as seal_kind', 'r.keeper_id', 'k.name as keeper_name', 'r.approver_id', 'a.display_name as approver_name', 'r.use_request_id', 'r.purpose', 'r.document_type',
      'r.document_name', 'r.document_sha256', 'r.format', 'r.signature_sha256', 'r.signed_at', 'r.requested_by', 'r.channel', 'r.client_address',
    );
  // Keepers' names are personal data (P1): the read is recorded.
  await auditRead(db, actor, { action: 'use_register.read', targetType: 'holder', targetId: actor.holderId, details: { rows: rows.length } });
  return (rows as Omit<UseRegisterEntry, 'document_type_zh'>[]).map((r) => ({ ...r, document_type_zh: DOCUMENT_TYPES[r.document_type as DocumentType]?.zh ?? r.document_type }));
}

/**
 * The holder's use register page: the entries as filtered, and what the filters offer (the holder's seals
 * and their keepers, removed ones too: their signatures stay in the register).
 */
export async function useRegisterPage(db: Db, actor: Actor, query: Record<string, unknown>) {
  if (actor.role !== 'holder' || !actor.holderId) throw forbidden('Only holder staff read their use register', '只有印章所属单位的人员可以查看用印登记');
  const seals: Array<{ id: string; kind: string; number: number | null; seal_code: string | null }> = await db('seals').where({ holder_id: actor.holderId }).orderBy('created_at').select('id', 'kind', 'number', 'seal_code');
  const keepers: Array<{ id: string; name: string; seal_id: string; removed_at: Date | null }> = seals.length
    ? await db('seal_keepers').whereIn('seal_id', seals.map((x) => x.id)).orderBy('name').select('id', 'name', 'seal_id', 'removed_at')
    : [];
  const entries = await listUseRegister(db, actor, query);
  return { seals, keepers, entries };
}

export const USE_REGISTER_CSV_HEADER = ['id', 'signed_at', 'seal_code', 'seal_kind', 'keeper_name', 'approver_id', 'purpose', 'document_type', 'document_name', 'document_sha256', 'format', 'channel', 'client_address'];
export const useRegisterCsvRow = (e: UseRegisterEntry) => [e.id, e.signed_at.toISOString(), e.seal_code, e.seal_kind, e.keeper_name, e.approver_id, e.purpose, e.document_type_zh, e.document_name, e.document_sha256, e.format, e.channel, e.client_address];

export interface SealUseCount {
  district_code: string;
  seal_kind: string;
  seal_kind_zh: string;
  count: number;
}

/** GET /api/supervision/seal-use: supervisors see how many signatures seals made, per district and seal kind (no personal data). */
export async function sealUseCounts(db: Db, actor: Actor, query: Record<string, unknown>): Promise<{ from: string | null; to: string | null; total: number; counts: SealUseCount[] }> {
  if (actor.role !== 'supervisor') throw forbidden('Only supervisors see the city-wide use counts', '只有督导人员可以查看全市用印统计');
  const q = (k: string) => (typeof query[k] === 'string' ? (query[k] as string) : undefined);
  const v = new ValidationCollector();
  const from = v.check(() => parseInstant(q('from'), F.from));
  const to = v.check(() => parseInstant(q('to'), F.to));
  v.throwIfAny();
  const rows: Array<{ district_code: string; seal_kind: string; count: string }> = await db('seal_use_register as r')
    .join('seals as s', 's.id', 'r.seal_id')
    .join('holders as h', 'h.id', 's.holder_id')
    .modify((b) => {
      if (from) b.where('r.signed_at', '>=', from);
      if (to) b.where('r.signed_at', '<', to);
    })
    .groupBy('h.district_code', 's.kind')
    .orderBy([{ column: 'h.district_code' }, { column: 's.kind' }])
    .select('h.district_code', 's.kind as seal_kind')
    .count({ count: '*' });
  const counts = rows.map((r) => ({ district_code: r.district_code, seal_kind: r.seal_kind, seal_kind_zh: SEAL_KIND_LABELS[r.seal_kind as SealKind]?.zh ?? r.seal_kind, count: Number(r.count) }));
  return { from: from?.toISOString() ?? null, to: to?.toISOString() ?? null, total: counts.reduce((n, c) => n + c.count, 0), counts };
}
