// Supervisors search the audit trail and export it (M6, P1): by person, case, time range and action.
// Every search and export is itself an audit entry (who looked at whom). City-level supervisors only.
import type { Db } from '../infra/db';
import { auditRead } from '../infra/audit/log';
import { fieldRef, invalidField, ValidationCollector } from '../domain/errors';
import { parseCivilDate, shanghaiEndOfDay, shanghaiStartOfDay } from '../domain/calendar';
import { csvLine } from '../domain/csv';
import type { Actor } from '../domain/actor';
import { forbidden } from '../domain/refusals';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
const ACTION = /^[\w.:/{} -]{1,200}\*?$/;
export const MAX_PAGE = 500;
export const MAX_EXPORT = 1_000_000;

const F = {
  user: fieldRef('user', '人员', 'Person'),
  case: fieldRef('case', '案件', 'Case'),
  from: fieldRef('from', '起始时间', 'From'),
  to: fieldRef('to', '截止时间', 'To'),
  action: fieldRef('action', '操作', 'Action'),
  limit: fieldRef('limit', '条数', 'Limit'),
  before: fieldRef('before_seq', '翻页位置', 'Before seq'),
} as const;

export interface AuditFilter {
  /** A user ID (UUID) or a username. */
  user?: string;
  case?: string;
  from?: Date;
  /** Inclusive instant; a date means the whole of that day in Beijing. */
  to?: { at: Date; inclusive: boolean };
  /** Exact action, or a prefix ending in `*` (`case.*`). */
  action?: string;
}

const one = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : Array.isArray(v) ? one(v[0]) : undefined);

function parseInstant(raw: string, field: typeof F.from, end: boolean): { at: Date; inclusive: boolean } {
  if (DATE.test(raw)) {
    const d = parseCivilDate(raw, field);
    return end ? { at: shanghaiEndOfDay(d), inclusive: false } : { at: shanghaiStartOfDay(d), inclusive: true };
  }
  const at = new Date(raw);
  if (!DATETIME.test(raw) || Number.isNaN(at.getTime())) {
    throw invalidField(field, '应为日期 YYYY-MM-DD（北京时间）或带时区的时间，如 2026-11-27T08:00:00+08:00', 'must be a date YYYY-MM-DD (Beijing) or a date-time with an offset, e.g. 2026-11-27T08:00:00+08:00');
  }
  return { at, inclusive: true };
}

/** Query parameters → a filter; every bad parameter is named at once. */
export function parseAuditQuery(q: Record<string, unknown>): { filter: AuditFilter; limit: number; beforeSeq?: string } {
  const v = new ValidationCollector();
  const filter: AuditFilter = {};
  const user = one(q.user);
  if (user !== undefined) {
    if (user.length > 200) v.add(invalidField(F.user, '过长', 'is too long'));
    else filter.user = user;
  }
  const c = one(q.case);
  if (c !== undefined) {
    if (!UUID.test(c)) v.add(invalidField(F.case, '应为案件编号（UUID）', 'must be a case ID (UUID)'));
    else filter.case = c.toLowerCase();
  }
  const from = one(q.from);
  if (from !== undefined) filter.from = v.check(() => parseInstant(from, F.from, false))?.at;
  const to = one(q.to);
  if (to !== undefined) filter.to = v.check(() => parseInstant(to, F.to, true));
  if (filter.from && filter.to && filter.to.at < filter.from) v.add(invalidField(F.to, '早于起始时间', 'is before "from"'));
  const action = one(q.action);
  if (action !== undefined) {
    if (!ACTION.test(action)) v.add(invalidField(F.action, '格式不正确（如 case.read，或前缀加 *，如 case.*）', 'is not an action (e.g. case.read, or a prefix with *, e.g. case.*)'));
    else filter.action = action;
  }
  let limit = 100;
  const rawLimit = one(q.limit);
  if (rawLimit !== undefined) {
    const n = Number(rawLimit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) v.add(invalidField(F.limit, `应为 1 到 ${MAX_PAGE} 的整数`, `must be a whole number from 1 to ${MAX_PAGE}`));
    else limit = n;
  }
  const before = one(q.before_seq);
  if (before !== undefined && !/^[1-9]\d{0,18}$/.test(before)) v.add(invalidField(F.before, '应为正整数', 'must be a positive whole number'));
  v.throwIfAny();
  return { filter, limit, beforeSeq: before };
}

function applyFilter(db: Db, f: AuditFilter) {
  const q = db('audit_entries');
  if (f.user) q.where(UUID.test(f.user) ? { actor_user_id: f.user.toLowerCase() } : { actor_username: f.user });
  if (f.case) q.where({ case_id: f.case });
  if (f.from) q.where('at', '>=', f.from);
  if (f.to) q.where('at', f.to.inclusive ? '<=' : '<', f.to.at);
  if (f.action) {
    if (f.action.endsWith('*')) q.whereLike('action', `${f.action.slice(0, -1).replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
    else q.where({ action: f.action });
  }
  return q;
}

const FIELDS = [
  'seq', 'at', 'actor_user_id', 'actor_username', 'actor_role', 'actor_district_code', 'actor_maker_id', 'actor_holder_id',
  'action', 'outcome', 'target_type', 'target_id', 'case_id', 'client_address', 'request_id', 'details', 'hash',
] as const;

const describe = (f: AuditFilter) => ({
  user: f.user ?? null,
  case: f.case ?? null,
  from: f.from?.toISOString() ?? null,
  to: f.to?.at.toISOString() ?? null,
  action: f.action ?? null,
});

function assertSupervisor(actor: Actor) {
  if (actor.role !== 'supervisor') throw forbidden('The audit trail is for city-level supervisors', '审计日志仅供市级督导人员查看');
}

export interface AuditDeps {
  db: Db;
}

/** Newest first, `limit` per page; `next_before_seq` continues. */
export async function searchAudit(deps: AuditDeps, actor: Actor, query: Record<string, unknown>) {
  assertSupervisor(actor);
  const { filter, limit, beforeSeq } = parseAuditQuery(query);
  await auditRead(deps.db, actor, { action: 'audit.search', targetType: 'audit', targetId: 'audit_entries', caseId: filter.case, details: { filter: describe(filter), limit, before_seq: beforeSeq ?? null } });
  const q = applyFilter(deps.db, filter);
  if (beforeSeq) q.where('seq', '<', beforeSeq);
  const rows = await q.orderBy('seq', 'desc').limit(limit).select(...FIELDS);
  const entries = rows.map((r) => ({ ...r, seq: String(r.seq) }));
  return { entries, next_before_seq: entries.length === limit ? entries[entries.length - 1].seq : null };
}

const CSV_COLUMNS = [...FIELDS] as string[];

/**
 * The matching entries as CSV (UTF-8 with a BOM for spreadsheet programs), oldest first, read page by page
 * so that an export of any size streams. The export is recorded before the first row is read.
 */
export async function exportAudit(deps: AuditDeps, actor: Actor, query: Record<string, unknown>): Promise<{ filename: string; chunks: AsyncIterable<string> }> {
  assertSupervisor(actor);
  const { filter } = parseAuditQuery({ ...query, limit: undefined, before_seq: undefined });
  await auditRead(deps.db, actor, { action: 'audit.export', targetType: 'audit', targetId: 'audit_entries', caseId: filter.case, details: { filter: describe(filter), format: 'csv' } });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  async function* chunks() {
    yield '\uFEFF' + CSV_COLUMNS.join(',') + '\r\n';
    let after = '0';
    let sent = 0;
    while (sent < MAX_EXPORT) {
      const rows = await applyFilter(deps.db, filter).where('seq', '>', after).orderBy('seq').limit(5000).select(...FIELDS);
      if (rows.length === 0) return;
      yield rows.map((r) => csvLine(CSV_COLUMNS.map((c) => (r as Record<string, unknown>)[c]))).join('\r\n') + '\r\n';
      after = String(rows[rows.length - 1].seq);
      sent += rows.length;
      if (rows.length < 5000) return;
    }
  }
  return { filename: `audit-${stamp}Z.csv`, chunks: chunks() };
}
