// A case's state for API clients that follow it (GET /api/applications/{id}/status): status, task ids and
// the seal's id and code, optionally waiting (long-poll) until the case shows a given status.
// It carries no personal data (no names, ID numbers, phones, materials, timeline), so unlike the case view
// (M6 P1) a read is not audited: following a case through its steps would otherwise write an audit entry on
// every poll without telling the audit anything the case's own events do not.
import type { Db } from '../infra/db';
import { fieldRef, invalidField } from '../domain/errors';
import type { CaseStatus } from '../workflows/application-messages';
import type { Actor } from '../domain/actor';
import { notFound } from '../domain/refusals';
import { assertCanSeeCase } from './applications';
import { TERMINAL_CASE_STATUSES } from './web-queries';

export const CASE_STATUSES = [
  'submitted', 'materials_required', 'awaiting_establishment_approval', 'licence_paused', 'awaiting_production', 'producing', 'production_failed', 'production_abandoned',
  'awaiting_filing', 'filing_under_review', 'filing_returned', 'ready', 'collected', 'rejected', 'cancelled_unclaimed',
  'processing', 'completed', 'awaiting_reset_approval', 'refused',
] as const satisfies ReadonlyArray<CaseStatus | 'submitted' | 'refused'>;
export const MAX_WAIT_MS = 20_000;
/** How often a waiting request re-reads the case's status: one indexed single-row read, bounded by MAX_WAIT_MS. */
export const WAIT_POLL_MS = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface StatusQuery {
  wait_for?: unknown;
  timeout_ms?: unknown;
}

/** Validates ?wait_for and ?timeout_ms (400 naming the field); no wait_for means answer at once. */
export function parseStatusQuery(q: StatusQuery): { waitFor: string | null; timeoutMs: number } {
  if (q.wait_for === undefined || q.wait_for === '') {
    if (q.timeout_ms !== undefined) throw invalidField(fieldRef('timeout_ms', '等待时长（毫秒）', 'Wait time (ms)'), '只能与 wait_for 一起使用', 'only applies together with wait_for');
    return { waitFor: null, timeoutMs: 0 };
  }
  const waitField = fieldRef('wait_for', '等待的案件状态', 'Case status to wait for');
  if (typeof q.wait_for !== 'string' || !(CASE_STATUSES as readonly string[]).includes(q.wait_for)) {
    throw invalidField(waitField, `应为案件状态之一（${CASE_STATUSES.join('、')}）`, `must be one of the case statuses (${CASE_STATUSES.join(', ')})`);
  }
  let timeoutMs = MAX_WAIT_MS;
  if (q.timeout_ms !== undefined) {
    const n = typeof q.timeout_ms === 'string' && /^\d{1,6}$/.test(q.timeout_ms) ? Number(q.timeout_ms) : NaN;
    if (!(n >= 0 && n <= MAX_WAIT_MS)) throw invalidField(fieldRef('timeout_ms', '等待时长（毫秒）', 'Wait time (ms)'), `应为 0 至 ${MAX_WAIT_MS} 的整数`, `must be a whole number from 0 to ${MAX_WAIT_MS}`);
    timeoutMs = n;
  }
  return { waitFor: q.wait_for, timeoutMs };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * The case's status view, authorised like the case view (maker: own case, officer: own district, holder:
 * own, city roles). With `wait_for`, answers once the case shows that status, reaches a terminal status
 * (it never will then), `timeout_ms` passes or the client goes away (`signal`); the answer is the
 * status at that moment, so a client compares it with what it waited for.
 */
export async function getCaseStatus(deps: { db: Db }, actor: Actor, caseId: string, query: StatusQuery, signal?: AbortSignal) {
  if (!UUID.test(caseId)) throw notFound('Case', '案件');
  const c = await deps.db('cases').where({ id: caseId }).first('id', 'kind', 'status', 'maker_id', 'district_code', 'holder_id', 'subject_seal_id');
  if (!c) throw notFound('Case', '案件');
  assertCanSeeCase(actor, c);
  const { waitFor, timeoutMs } = parseStatusQuery(query);
  let status: string = c.status;
  const until = Date.now() + timeoutMs;
  while (waitFor && status !== waitFor && !(TERMINAL_CASE_STATUSES as readonly string[]).includes(status) && Date.now() < until && !signal?.aborted) {
    await sleep(Math.min(WAIT_POLL_MS, until - Date.now()), signal);
    status = (await deps.db('cases').where({ id: caseId }).first('status')).status;
  }
  const [row, tasks, seal] = await Promise.all([
    deps.db('cases').where({ id: caseId }).first('status', 'updated_at'),
    deps.db('tasks').where({ case_id: caseId }).orderBy('created_at').select('id', 'kind', 'status'),
    deps.db('seals').where({ case_id: caseId }).orWhere({ id: c.subject_seal_id }).orderByRaw('case_id = ? desc', [caseId]).first('id', 'seal_code', 'status'),
  ]);
  return { id: c.id, kind: c.kind, status: row.status, updated_at: row.updated_at, tasks, seal: seal ?? null };
}
