// Read models of the back-office pages (P1, P3, I1): the officers' queue, a task with its case, the makers'
// case desk, a holder's seals, a seal's timeline and imprint, the supervisors' city view; and claiming a
// task. Every query applies the same scope as the JSON API (officers: their district; makers: their cases;
// holders: their seals; supervisors and administrators: the city). Business operations stay in
// applications.ts, seal-lifecycle.ts and keepers.ts; nothing here changes a case.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { auditRead } from '../infra/audit/log';
import { personalData } from '../infra/crypto/personal-data';
import type { Actor } from '../domain/actor';
import { forbidden, notFound } from '../domain/refusals';
import { assertCanSeeCase } from './applications';
import { unclaimedLedger } from './supervision';
import { conflict } from '../domain/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const TERMINAL_CASE_STATUSES = ['collected', 'completed', 'rejected', 'cancelled_unclaimed', 'refused', 'production_abandoned'] as const;
export const QUEUE_PAGE_SIZE = 50;

/** The seal a case is about: its own (application) or the subject of a lifecycle / reset request. */
const sealOfCase = (db: Knex) => db.raw('coalesce(c.subject_seal_id, (select s0.id from seals s0 where s0.case_id = c.id))');

// ---------- officers' queue ----------

export interface QueueFilter {
  kind?: string;
  status?: 'open' | 'done';
  page?: number;
  mine?: boolean;
}

export interface QueueRow {
  id: string;
  kind: string;
  status: string;
  due_at: Date | null;
  created_at: Date;
  decided_at: Date | null;
  decision: string | null;
  district_code: string;
  case_id: string;
  assignee_id: string | null;
  assignee_name: string | null;
  case_kind: string;
  case_status: string;
  holder_name: string;
  seal_id: string | null;
  seal_kind: string | null;
  seal_number: number | null;
  seal_code: string | null;
}

export async function taskQueue(db: Db, actor: Actor, filter: QueueFilter) {
  if (actor.role !== 'officer' && actor.role !== 'supervisor') throw forbidden('Tasks are for police officers and supervisors', '任务仅供民警和督导人员查看');
  const status = filter.status === 'done' ? 'done' : 'open';
  const scoped = (q: Knex.QueryBuilder) => {
    q.where('t.status', status);
    if (actor.role === 'officer') q.where('t.district_code', actor.districtCode);
    return q;
  };
  const counts: Array<{ kind: string; n: string }> = await scoped(db('tasks as t')).groupBy('t.kind').select('t.kind', db.raw('count(*) as n'));
  const page = Math.max(1, Math.min(1000, Math.floor(filter.page ?? 1)));
  const q = scoped(db('tasks as t'))
    .join('cases as c', 'c.id', 't.case_id')
    .join('holders as h', 'h.id', 'c.holder_id')
    .leftJoin('seals as s', 's.id', sealOfCase(db))
    .leftJoin('users as a', 'a.id', 't.assignee_id');
  if (filter.kind) q.where('t.kind', filter.kind);
  if (filter.mine) q.where('t.assignee_id', actor.userId);
  if (status === 'open') q.orderByRaw('t.due_at asc nulls last, t.created_at asc');
  else q.orderBy('t.decided_at', 'desc');
  const rows: QueueRow[] = await q
    .limit(QUEUE_PAGE_SIZE + 1)
    .offset((page - 1) * QUEUE_PAGE_SIZE)
    .select(
      't.id', 't.kind', 't.status', 't.due_at', 't.created_at', 't.decided_at', 't.decision', 't.district_code', 't.case_id', 't.assignee_id',
      'a.display_name as assignee_name', 'c.kind as case_kind', 'c.status as case_status', 'h.name as holder_name',
      's.id as seal_id', 's.kind as seal_kind', 's.number as seal_number', 's.seal_code',
    );
  return {
    counts: Object.fromEntries(counts.map((c) => [c.kind, Number(c.n)])) as Record<string, number>,
    rows: rows.slice(0, QUEUE_PAGE_SIZE),
    page,
    hasMore: rows.length > QUEUE_PAGE_SIZE,
  };
}

/**
 * A fingerprint of the open tasks in the actor's scope (how many, the newest, who holds which): the queue
 * page's script polls it and reloads the table only when it changes.
 */
export async function queueVersion(db: Db, actor: Actor): Promise<{ version: string; open: number }> {
  if (actor.role !== 'officer' && actor.role !== 'supervisor') throw forbidden('Tasks are for police officers and supervisors', '任务仅供民警和督导人员查看');
  const q = db('tasks').where('status', 'open');
  if (actor.role === 'officer') q.where('district_code', actor.districtCode);
  const row = await q.first(
    db.raw('count(*)::int as n'),
    db.raw('max(created_at) as newest'),
    db.raw(`coalesce(sum(hashtext(id::text || coalesce(assignee_id::text, ''))), 0)::text as h`),
  );
  return { version: `${row.n}:${row.newest ? new Date(row.newest).getTime() : 0}:${row.h}`, open: row.n };
}

async function loadTask(db: Db, actor: Actor, taskId: string) {
  if (!UUID.test(taskId)) throw notFound('Task', '任务');
  const task = await db('tasks as t').leftJoin('users as a', 'a.id', 't.assignee_id').leftJoin('users as d', 'd.id', 't.decided_by').leftJoin('cases as c', 'c.id', 't.case_id')
    .where('t.id', taskId).first('t.*', 'a.display_name as assignee_name', 'd.display_name as decided_by_name', 'c.district_mismatches'); // P3: flagged to the officer
  if (!task) throw notFound('Task', '任务');
  if (actor.role === 'officer' ? task.district_code !== actor.districtCode : actor.role !== 'supervisor') {
    throw forbidden('This task belongs to another district', '该任务属于其他辖区');
  }
  return task;
}

export async function getTask(db: Db, actor: Actor, taskId: string) {
  return loadTask(db, actor, taskId);
}

/** Claim (take) an open task, so that the other officers of the district see who is on it. */
export async function claimTask(db: Db, actor: Actor, taskId: string) {
  if (actor.role !== 'officer') throw forbidden('Only a police officer takes tasks', '只有民警可以认领任务');
  const task = await loadTask(db, actor, taskId);
  if (task.status !== 'open') throw conflict('TASK_CLOSED', '该任务已处理完毕', 'This task has already been decided');
  const updated = await db('tasks').where({ id: taskId, status: 'open' }).where((q) => q.whereNull('assignee_id').orWhere('assignee_id', actor.userId)).update({ assignee_id: actor.userId });
  if (updated === 0) throw conflict('TASK_CLAIMED', `该任务已由 ${task.assignee_name} 认领`, `This task is already claimed by ${task.assignee_name}`);
  await db('case_events').insert({ case_id: task.case_id, event_key: `web:${randomUUID()}`, type: 'task_claimed', data: JSON.stringify({ task_id: taskId, kind: task.kind }), actor_id: actor.userId, at: new Date() });
}

/** Release a task one holds, back to the district's queue. */
export async function releaseTask(db: Db, actor: Actor, taskId: string) {
  if (actor.role !== 'officer') throw forbidden('Only a police officer releases tasks', '只有民警可以释放任务');
  const task = await loadTask(db, actor, taskId);
  const updated = await db('tasks').where({ id: taskId, assignee_id: actor.userId }).update({ assignee_id: null });
  if (updated === 0) throw conflict('TASK_NOT_YOURS', '您没有认领该任务', 'You do not hold this task');
  await db('case_events').insert({ case_id: task.case_id, event_key: `web:${randomUUID()}`, type: 'task_released', data: JSON.stringify({ task_id: taskId, kind: task.kind }), actor_id: actor.userId, at: new Date() });
}

// ---------- cases ----------

/** Who did what on the timeline: display names of the actors of a set of events. */
export async function actorNames(db: Db, ids: Array<string | null>): Promise<Record<string, string>> {
  const wanted = [...new Set(ids.filter((x): x is string => !!x))];
  if (wanted.length === 0) return {};
  const rows = await db('users').whereIn('id', wanted).select('id', 'display_name');
  return Object.fromEntries(rows.map((r) => [r.id, r.display_name]));
}

/** Case data a case page shows beyond getCaseView: the maker, the handler's name and phone (decrypted, P1), the request. */
export async function caseDetails(deps: { db: Db; hsm?: Hsm }, actor: Actor, caseId: string) {
  const { db } = deps;
  if (!UUID.test(caseId)) throw notFound('Case', '案件');
  const c = await db('cases as c').join('makers as m', 'm.id', 'c.maker_id').join('holders as h', 'h.id', 'c.holder_id').where('c.id', caseId)
    .first('c.maker_id', 'c.holder_id', 'c.district_code', 'c.handler_name', 'c.handler_phone', 'c.request_reason', 'c.language', 'c.newly_established_organ', 'c.created_at', 'c.subject_seal_id', 'm.name as maker_name', 'm.licence_no', 'h.address', 'h.legal_representative');
  if (!c) throw notFound('Case', '案件');
  assertCanSeeCase(actor, c);
  await auditRead(db, actor, { action: 'case.read', targetType: 'case', targetId: caseId, caseId }); // M6 P1 (once per request with getCaseView's)
  return { ...c, handler_phone: await personalData(deps).decrypt(c.handler_phone, { table: 'cases', column: 'handler_phone', row: caseId }) };
}

export interface CaseListFilter {
  status?: string;
  district?: string;
  maker?: string;
  kind?: string;
  open?: boolean;
  /** Only cases whose filing is overdue now (M3). */
  overdue?: boolean;
}

/** Cases in scope, newest first, with counts by state (the makers' desk, drill-downs of the city view). */
export interface DeskRow {
  id: string;
  kind: string;
  status: string;
  status_reason: string | null;
  district_code: string;
  created_at: Date;
  updated_at: Date;
  holder_name: string;
  seal_id: string | null;
  seal_kind: string | null;
  seal_number: number | null;
  seal_code: string | null;
  unclaimed_due_at: Date | null;
  filing_due_at: Date | null;
  filing_overdue_at: Date | null;
}

export async function caseDesk(db: Db, actor: Actor, filter: CaseListFilter) {
  const scoped = (q: Knex.QueryBuilder) => {
    if (actor.role === 'maker') q.where('c.maker_id', actor.makerId);
    else if (actor.role === 'officer') q.where('c.district_code', actor.districtCode);
    else if (actor.role === 'holder') q.where('c.holder_id', actor.holderId);
    if (filter.district) q.where('c.district_code', filter.district);
    if (filter.maker && UUID.test(filter.maker)) q.where('c.maker_id', filter.maker);
    if (filter.kind) q.where('c.kind', filter.kind);
    return q;
  };
  const counts: Array<{ status: string; n: string }> = await scoped(db('cases as c')).whereNotIn('c.status', TERMINAL_CASE_STATUSES).groupBy('c.status').select('c.status', db.raw('count(*) as n'));
  const q = scoped(db('cases as c'))
    .join('holders as h', 'h.id', 'c.holder_id')
    .leftJoin('seals as s', 's.id', sealOfCase(db))
    .leftJoin('filing_deadlines as f', function () {
      this.on('f.case_id', 'c.id').andOnNull('f.first_filed_at');
    });
  if (filter.overdue) q.whereNotNull('f.overdue_at');
  if (filter.status) q.where('c.status', filter.status);
  else if (filter.open) q.whereNotIn('c.status', TERMINAL_CASE_STATUSES);
  const rows: DeskRow[] = await q
    .orderBy('c.created_at', 'desc')
    .limit(200)
    .select('c.id', 'c.kind', 'c.status', 'c.status_reason', 'c.district_code', 'c.created_at', 'c.updated_at', 'h.name as holder_name', 's.id as seal_id', 's.kind as seal_kind', 's.number as seal_number', 's.seal_code', 's.unclaimed_due_at', 'f.due_at as filing_due_at', 'f.overdue_at as filing_overdue_at');
  return { counts: Object.fromEntries(counts.map((c) => [c.status, Number(c.n)])) as Record<string, number>, rows };
}

// ---------- seals ----------

async function loadSealScope(db: Db, sealId: string) {
  if (!UUID.test(sealId)) throw notFound('Seal', '印章');
  const seal = await db('seals as s').join('cases as c', 'c.id', 's.case_id').join('holders as h', 'h.id', 's.holder_id').where('s.id', sealId)
    .first('s.id', 's.case_id', 's.kind', 's.number', 's.text', 's.status', 's.seal_code', 's.certificate_serial', 's.certificate_fingerprint', 's.imprint_sha256', 's.produced_at', 's.ready_at', 's.unclaimed_due_at', 's.collected_at', 's.hold_since', 's.stopped_at', 's.cancelled_at', 's.cancellation_reason', 's.replaces_seal_id', 'c.maker_id', 'c.district_code', 's.holder_id', db.raw('coalesce(s.holder_name, h.name) as holder_name'), 'h.uscc');
  if (!seal) throw notFound('Seal', '印章');
  return seal;
}

/** A seal with its documents, the seal that replaced it and its whole timeline (application, requests, custody). */
export async function sealPage(db: Db, actor: Actor, sealId: string) {
  const seal = await loadSealScope(db, sealId);
  assertCanSeeCase(actor, seal);
  const documents = await db('documents').where({ seal_id: sealId }).orderBy('created_at').select('kind', 'document_no', 'created_at');
  const caseIds = [seal.case_id, ...(await db('cases').where({ subject_seal_id: sealId }).pluck('id'))];
  const events = await db('case_events as e').join('cases as c', 'c.id', 'e.case_id').whereIn('e.case_id', caseIds).orderBy('e.at').orderBy('e.id').select('e.case_id', 'c.kind as case_kind', 'e.type', 'e.data', 'e.actor_id', 'e.at');
  const replacedBy = await db('seals').where({ replaces_seal_id: sealId }).first('id', 'case_id');
  return { seal, documents, events, replacedBy: replacedBy ?? null };
}

/** The imprint picture (S3) of a seal the actor may see. */
export async function sealImprint(db: Db, actor: Actor, sealId: string): Promise<{ png: Buffer; sha256: string }> {
  const seal = await loadSealScope(db, sealId);
  assertCanSeeCase(actor, seal);
  const row = await db('seals').where({ id: sealId }).first('imprint_png', 'imprint_sha256');
  if (!row?.imprint_png) throw notFound('Imprint', '印模');
  return { png: row.imprint_png, sha256: row.imprint_sha256 };
}

/** Seals of a holder (holder staff) or produced by a maker (maker staff), newest first. */
export async function sealList(db: Db, actor: Actor) {
  const q = db('seals as s').join('cases as c', 'c.id', 's.case_id').join('holders as h', 'h.id', 's.holder_id');
  if (actor.role === 'holder') q.where('s.holder_id', actor.holderId);
  else if (actor.role === 'maker') q.where('c.maker_id', actor.makerId).whereNot('s.status', 'in_production');
  else throw forbidden('Seal lists are for holders and makers', '印章列表仅供用章单位和制作单位查看');
  const seals = await q.orderBy('s.created_at', 'desc').limit(500)
    .select('s.id', 's.case_id', 's.kind', 's.number', 's.text', 's.status', 's.seal_code', 's.certificate_serial', 's.imprint_sha256', 's.collected_at', 's.unclaimed_due_at', 's.hold_since', 's.cancelled_at', db.raw('coalesce(s.holder_name, h.name) as holder_name')); // M11: the name a seal was made under
  const docs = seals.length ? await db('documents').whereIn('seal_id', seals.map((s) => s.id)).select('seal_id', 'kind') : [];
  const keepers = seals.length ? await db('seal_keepers').whereIn('seal_id', seals.map((s) => s.id)).whereNull('removed_at').groupBy('seal_id').select('seal_id', db.raw('count(*) as n')) : [];
  return seals.map((s) => ({
    ...s,
    documents: docs.filter((d) => d.seal_id === s.id).map((d) => d.kind as string),
    keeper_count: Number(keepers.find((k) => k.seal_id === s.id)?.n ?? 0),
  }));
}

// ---------- supervision (I1, M3, M9) ----------

export const APPROACHING_UNCLAIMED_DAYS = 14;

/**
 * The city view: overdue filings by district and by maker with how late, seals nearing the unclaimed
 * limit, the ledger, open cases by state. Lists hold at most `limit` rows (the page shows the first ones,
 * the CSV export all); the totals are counted in full.
 */
export async function supervisionDashboard(db: Db, actor: Actor, now = new Date(), limit = 50) {
  if (actor.role !== 'supervisor') throw forbidden('The city view is for supervisors', '全市督导视图仅供督导人员查看');
  // The rows of overdueFilings (M3: overdue and not yet filed), counted and ranked in PostgreSQL.
  const overdueRows = () => db('filing_deadlines as f').whereNotNull('f.overdue_at').whereNull('f.first_filed_at');
  const groups = async (key: 'district_code' | 'maker_id') => {
    const q = overdueRows().groupBy(`f.${key}`);
    if (key === 'maker_id') q.join('makers as m', 'm.id', 'f.maker_id').groupBy('m.name');
    const rows: Array<{ key: string; name?: string; count: string; max_late: number; total_late: string }> = await q.select(
      `f.${key} as key`,
      ...(key === 'maker_id' ? ['m.name as name'] : []),
      db.raw('count(*) as count'),
      db.raw('max(floor(extract(epoch from (?::timestamptz - f.due_at)) / 60))::int as max_late', [now]),
      db.raw('sum(floor(extract(epoch from (?::timestamptz - f.due_at)) / 60)) as total_late', [now]),
    );
    return rows
      .map((r) => ({ key: r.key, name: r.name ?? r.key, count: Number(r.count), max_late_minutes: Number(r.max_late), total_late_minutes: Number(r.total_late) }))
      .sort((a, b) => b.count - a.count || b.max_late_minutes - a.max_late_minutes);
  };
  const horizon = new Date(now.getTime() + APPROACHING_UNCLAIMED_DAYS * 86400_000);
  const nearing = () => db('seals as s').where('s.status', 'ready').where('s.unclaimed_due_at', '<', horizon);
  // Independent reads, run side by side on the pool: the page waits for the slowest, not for their sum.
  const [overdue, overdueCount, approaching, approachingCount, ledger, ledgerCount, byState, overdueByDistrict, overdueByMaker] = await Promise.all([
    overdueRows()
      .join('cases as c', 'c.id', 'f.case_id')
      .join('makers as m', 'm.id', 'f.maker_id')
      .join('holders as h', 'h.id', 'c.holder_id')
      .orderBy('f.due_at')
      .limit(limit)
      .select('f.case_id', 'f.kind', 'f.district_code', 'm.name as maker_name', 'f.maker_id', 'h.name as holder_name', 'f.due_at', 'f.overdue_at', db.raw('floor(extract(epoch from (?::timestamptz - f.due_at)) / 60)::int as late_by_minutes', [now])),
    overdueRows().count('* as n').first(),
    nearing()
      .join('cases as c', 'c.id', 's.case_id')
      .join('holders as h', 'h.id', 's.holder_id')
      .join('makers as m', 'm.id', 'c.maker_id')
      .orderBy('s.unclaimed_due_at')
      .limit(limit)
      .select('s.id as seal_id', 's.case_id', 'c.district_code', 'h.name as holder_name', 'm.name as maker_name', 's.seal_code', 's.kind as seal_kind', 's.number as seal_number', 's.ready_at', 's.unclaimed_due_at'),
    nearing().count('* as n').first(),
    unclaimedLedger({ db }, actor, limit),
    db('unclaimed_ledger').count('* as n').first(),
    db('cases').whereNotIn('status', TERMINAL_CASE_STATUSES).groupBy('status').select('status', db.raw('count(*) as n')) as Promise<Array<{ status: string; n: string }>>,
    groups('district_code'),
    groups('maker_id'),
  ]);
  const total = (row: unknown) => Number((row as { n?: string | number } | undefined)?.n ?? 0);
  return {
    overdue: overdue as Array<{ case_id: string; kind: string; district_code: string; maker_name: string; maker_id: string; holder_name: string; due_at: Date; overdue_at: Date; late_by_minutes: number }>,
    overdueTotal: total(overdueCount),
    overdueByDistrict,
    overdueByMaker,
    approaching,
    approachingTotal: total(approachingCount),
    ledger,
    ledgerTotal: total(ledgerCount),
    openByState: byState.map((r) => ({ status: r.status, count: Number(r.n) })).sort((a, b) => b.count - a.count),
  };
}

// ---------- administration ----------

export async function adminOverview(db: Db, actor: Actor) {
  if (actor.role !== 'admin') throw forbidden('Administration is for administrators', '仅供管理员使用');
  const makers = await db('makers').orderBy('name').select('id', 'name', 'uscc', 'licence_no', 'licence_status', 'licence_valid_from', 'licence_valid_until', 'district_code');
  const users = await db('users as u').leftJoin('makers as m', 'm.id', 'u.maker_id').leftJoin('holders as h', 'h.id', 'u.holder_id').orderBy(['u.role', 'u.username']).limit(500)
    .select('u.id', 'u.username', 'u.display_name', 'u.role', 'u.district_code', 'u.disabled_at', 'm.name as maker_name', 'h.name as holder_name', db.raw('u.password_hash is not null as has_password'));
  return { makers, users };
}

// ---------- premises video (M8): a segment's page and the legal holds ----------

/** Whose video an actor sees (P3): makers their own, officers their district's makers, supervisors all. */
function videoScope(actor: Actor, q: Knex.QueryBuilder, prefix = 's') {
  if (actor.role === 'maker') q.where(`${prefix}.maker_id`, actor.makerId);
  else if (actor.role === 'officer') q.where(`${prefix}.district_code`, actor.districtCode);
  else if (actor.role !== 'supervisor') throw forbidden('Premises video is for its maker, the district\'s officers and supervisors', '监控录像仅供本制作单位、所在辖区民警和督导人员查看');
  return q;
}

/** A segment's metadata and its legal holds, placed and lifted, with who did it (no bytes: viewing is logged by retention.ts). */
export async function videoSegmentDetail(db: Db, actor: Actor, segmentId: string) {
  if (!UUID.test(segmentId)) throw notFound('Video segment', '录像片段');
  const seg = await videoScope(actor, db('video_segments as s').join('makers as m', 'm.id', 's.maker_id').where('s.id', segmentId))
    .first('s.*', 'm.name as maker_name');
  if (!seg) {
    if (await db('video_segments').where({ id: segmentId }).first('id')) throw forbidden('This segment belongs to another maker or district', '该录像属于其他制作单位或辖区');
    throw notFound('Video segment', '录像片段');
  }
  const holds = await db('video_legal_holds as h')
    .leftJoin('users as p', 'p.id', 'h.placed_by')
    .leftJoin('users as l', 'l.id', 'h.lifted_by')
    .where('h.segment_id', segmentId)
    .orderBy('h.placed_at', 'desc')
    .select('h.id', 'h.placed_role', 'h.reason', 'h.placed_at', 'h.lifted_role', 'h.lift_reason', 'h.lifted_at', 'p.display_name as placed_by_name', 'l.display_name as lifted_by_name');
  // M8: who accessed the segment, allowed or refused — shown to the police, not to the maker.
  const accessLog = actor.role === 'officer' || actor.role === 'supervisor'
    ? await db('video_access_log as a').leftJoin('users as u', 'u.id', 'a.actor_id').where('a.segment_id', segmentId).orderBy('a.id', 'desc').limit(50)
      .select('a.action', 'a.outcome', 'a.code', 'a.reason', 'a.actor_role', 'a.client_address', 'a.at', 'u.display_name', 'u.username')
    : null;
  return { segment: seg, holds, accessLog };
}

/** Legal holds in scope (officers: their district; supervisors: the city), active ones first. */
export async function legalHoldList(db: Db, actor: Actor, opts: { active?: boolean; limit?: number } = {}) {
  if (actor.role !== 'officer' && actor.role !== 'supervisor') throw forbidden('Legal holds are for officers and supervisors', '法律保全仅供民警和督导人员查看');
  const q = videoScope(actor, db('video_legal_holds as h').join('video_segments as s', 's.id', 'h.segment_id').join('makers as m', 'm.id', 's.maker_id').leftJoin('users as p', 'p.id', 'h.placed_by').leftJoin('users as l', 'l.id', 'h.lifted_by'));
  if (opts.active) q.whereNull('h.lifted_at');
  return q
    .orderByRaw('h.lifted_at is not null, h.placed_at desc')
    .limit(opts.limit ?? 200)
    .select('h.id', 'h.segment_id', 'h.placed_role', 'h.reason', 'h.placed_at', 'h.lift_reason', 'h.lifted_at', 's.camera_id', 's.recorded_start', 's.recorded_end', 's.district_code', 's.status as segment_status', 'm.name as maker_name', 'p.display_name as placed_by_name', 'l.display_name as lifted_by_name');
}
