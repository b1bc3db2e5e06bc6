// Supervision (M3, M9, I1): overdue filings and the ledger of unclaimed seals.
import type { Actor } from '../domain/actor';
import { forbidden } from '../domain/refusals';
import type { Deps } from './deps';

// ---------- supervision (M3, M9, I1) ----------

/** `now` measures how late each filing is; the web passes nothing (the clock), tests the workflow clock. */
export async function overdueFilings(deps: Pick<Deps, 'db'>, actor: Actor, now: Date = new Date()) {
  if (actor.role !== 'supervisor' && actor.role !== 'officer') throw forbidden('Supervision is for supervisors and officers', '督导信息仅供督导人员和民警查看');
  const q = deps.db('filing_deadlines as f')
    .join('cases as c', 'c.id', 'f.case_id')
    .join('makers as m', 'm.id', 'f.maker_id')
    .join('holders as h', 'h.id', 'c.holder_id')
    .whereNotNull('f.overdue_at')
    .whereNull('f.first_filed_at');
  if (actor.role === 'officer') q.where('f.district_code', actor.districtCode);
  const rows = await q.orderBy('f.due_at').select('f.case_id', 'f.kind', 'f.district_code', 'm.name as maker_name', 'f.maker_id', 'h.name as holder_name', 'f.due_at', 'f.overdue_at');
  return rows.map((r) => ({ ...r, late_by_minutes: Math.floor((now.getTime() - new Date(r.due_at).getTime()) / 60_000) }));
}

/** The unclaimed ledger (M9), newest first; `limit` bounds the read (the ledger only grows). */
export async function unclaimedLedger(deps: Pick<Deps, 'db'>, actor: Actor, limit?: number) {
  if (actor.role !== 'supervisor' && actor.role !== 'officer') throw forbidden('Supervision is for supervisors and officers', '督导信息仅供督导人员和民警查看');
  const q = deps.db('unclaimed_ledger as u').join('seals as s', 's.id', 'u.seal_id').join('holders as h', 'h.id', 's.holder_id');
  if (actor.role === 'officer') q.where('u.district_code', actor.districtCode);
  if (limit !== undefined) q.limit(limit);
  return q.orderBy('u.entered_at', 'desc').select('u.seal_id', 'u.case_id', 'u.district_code', 'h.name as holder_name', 's.seal_code', 'u.ready_at', 'u.due_at', 'u.entered_at');
}
