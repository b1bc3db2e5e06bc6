// Makers' filing compliance for supervisors (I1, M3): how long each maker took to file after production
// (a distribution in buckets) and how many of its filings were overdue at the end of each week; and the
// filings behind every one of those numbers (the drill-down). Read-only, city scope.
import type { Db } from '../infra/db';
import { fieldRef, invalidField } from '../domain/errors';
import type { Actor } from '../domain/actor';
import { forbidden } from '../domain/refusals';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HOUR = 3600_000;
export const WEEK_CHOICES = [4, 12, 26, 52] as const;

/** Delay buckets: hours from the start of the filing deadline (production finished) to the first filing. */
export const DELAY_BUCKETS = [
  { key: 'h6', fromH: 0, toH: 6, late: false },
  { key: 'h12', fromH: 6, toH: 12, late: false },
  { key: 'h24', fromH: 12, toH: 24, late: false },
  { key: 'd2', fromH: 24, toH: 48, late: true },
  { key: 'd7', fromH: 48, toH: 168, late: true },
  { key: 'more', fromH: 168, toH: null, late: true },
  { key: 'unfiled', fromH: null, toH: null, late: true }, // overdue and still not filed
] as const;
export type BucketKey = (typeof DELAY_BUCKETS)[number]['key'];

const F = {
  weeks: fieldRef('weeks', '统计周数', 'Weeks'),
  maker: fieldRef('maker', '制作单位', 'Maker'),
  bucket: fieldRef('bucket', '时长区间', 'Delay bucket'),
  at: fieldRef('at', '时点', 'Point in time'),
};

function assertSupervisor(actor: Actor) {
  if (actor.role !== 'supervisor') throw forbidden('Maker compliance is for city-level supervisors', '制作单位合规情况仅供市级督导人员查看');
}

export function parseWeeks(v: unknown): number {
  if (v === undefined || v === '') return 12;
  const n = Number(v);
  if (!WEEK_CHOICES.includes(n as (typeof WEEK_CHOICES)[number])) throw invalidField(F.weeks, `应为 ${WEEK_CHOICES.join('、')} 之一`, `must be one of ${WEEK_CHOICES.join(', ')}`);
  return n;
}

/** The week ends (points of the over-time series): `weeks` points a week apart, the last one `now`. */
export function weekPoints(now: Date, weeks: number): Date[] {
  return Array.from({ length: weeks }, (_, i) => new Date(now.getTime() - (weeks - 1 - i) * 7 * 24 * HOUR));
}

export interface MakerCompliance {
  makerId: string;
  name: string;
  /** Filings whose deadline started in the window. */
  total: number;
  late: number;
  buckets: Record<BucketKey, number>;
  /** Overdue and not yet filed at each point of `points`. */
  overdue: number[];
}

type Compliance = Awaited<ReturnType<typeof computeCompliance>>;

/** Computed statistics are reused for a minute (one computation for concurrent requests); the page says as of when. */
export const COMPLIANCE_CACHE_MS = 60_000;
const cache = new WeakMap<Db, Map<number, { at: number; value: Promise<Compliance> }>>();

/**
 * Per maker: the delay distribution of filings started in the window, and the overdue count at each week's
 * end. A window of a city's filings is ~100 000 rows to aggregate, so the result is kept for a minute;
 * the drill-down lists (complianceFilings) are always live. With `now` given, computed afresh.
 */
export async function makerCompliance(db: Db, actor: Actor, opts: { weeks: number; now?: Date }): Promise<Compliance> {
  assertSupervisor(actor);
  if (opts.now) return computeCompliance(db, opts.weeks, opts.now);
  let byWeeks = cache.get(db);
  if (!byWeeks) cache.set(db, (byWeeks = new Map()));
  const hit = byWeeks.get(opts.weeks);
  if (hit && Date.now() - hit.at < COMPLIANCE_CACHE_MS) return hit.value;
  const value = computeCompliance(db, opts.weeks, new Date());
  byWeeks.set(opts.weeks, { at: Date.now(), value });
  value.catch(() => byWeeks.delete(opts.weeks));
  return value;
}

async function computeCompliance(db: Db, weeks: number, now: Date) {
  const points = weekPoints(now, weeks);
  const from = new Date(points[0]!.getTime() - 7 * 24 * HOUR);
  const bucketSql = `case
    when f.first_filed_at is null and f.due_at < :now then 'unfiled'
    when f.first_filed_at is null then null
    when f.first_filed_at - f.started_at < interval '6 hours' then 'h6'
    when f.first_filed_at - f.started_at < interval '12 hours' then 'h12'
    when f.first_filed_at - f.started_at < interval '24 hours' then 'h24'
    when f.first_filed_at - f.started_at < interval '48 hours' then 'd2'
    when f.first_filed_at - f.started_at < interval '168 hours' then 'd7'
    else 'more' end`;
  const dist: Array<{ maker_id: string; bucket: BucketKey | null; n: string; late: string }> = (
    await db.raw(
      `select f.maker_id, ${bucketSql} as bucket, count(*) as n,
              count(*) filter (where coalesce(f.first_filed_at, :now) > f.due_at) as late
         from filing_deadlines f
        where f.started_at >= :from and f.started_at <= :now
        group by 1, 2`,
      { now, from },
    )
  ).rows;
  // A filing is overdue at a point when its deadline has passed (the workflow marked it overdue) and it was
  // not yet filed; only those unfiled (index filing_deadlines_overdue) or filed late within the window
  // (filing_deadlines_filed_late) can be. The OR is spelt out so that each arm matches its partial index.
  const series: Array<{ maker_id: string; i: number; n: string }> = (
    await db.raw(
      `select f.maker_id, p.i, count(*) as n
         from unnest(:points::timestamptz[]) with ordinality as p(at, i)
         join filing_deadlines f on f.due_at < p.at and (f.first_filed_at is null or f.first_filed_at > p.at)
        where (f.overdue_at is not null and f.first_filed_at is null) or (f.overdue_at is not null and f.first_filed_at is not null and f.first_filed_at > :from)
        group by 1, 2`,
      { points: `{${points.map((p) => p.toISOString()).join(',')}}`, from }, // a PostgreSQL array literal (knex would expand a JS array)
    )
  ).rows;
  const ids = [...new Set([...dist.map((d) => d.maker_id), ...series.map((s) => s.maker_id)])];
  const names: Array<{ id: string; name: string }> = ids.length ? await db('makers').whereIn('id', ids).select('id', 'name') : [];
  const byId = new Map<string, MakerCompliance>();
  const get = (id: string) => {
    let m = byId.get(id);
    if (!m) {
      m = {
        makerId: id,
        name: names.find((x) => x.id === id)?.name ?? id,
        total: 0,
        late: 0,
        buckets: Object.fromEntries(DELAY_BUCKETS.map((b) => [b.key, 0])) as Record<BucketKey, number>,
        overdue: points.map(() => 0),
      };
      byId.set(id, m);
    }
    return m;
  };
  for (const d of dist) {
    const m = get(d.maker_id);
    m.total += Number(d.n);
    m.late += Number(d.late);
    if (d.bucket) m.buckets[d.bucket] += Number(d.n);
  }
  for (const s of series) get(s.maker_id).overdue[Number(s.i) - 1] = Number(s.n);
  const makers = [...byId.values()].sort((a, b) => b.overdue[b.overdue.length - 1]! - a.overdue[a.overdue.length - 1]! || b.late - a.late || a.name.localeCompare(b.name));
  return { points, from, now, makers };
}

export interface FilingRow {
  case_id: string;
  kind: string;
  district_code: string;
  maker_name: string;
  holder_name: string;
  started_at: Date;
  due_at: Date;
  first_filed_at: Date | null;
  delay_minutes: number;
}

/** What a list of filings is: a delay bucket, every filing of the window, or those late (filed late or overdue). */
export type FilingSelection = BucketKey | 'all' | 'late';
const SELECTIONS: FilingSelection[] = [...DELAY_BUCKETS.map((b) => b.key), 'all', 'late'];

/**
 * The filings behind a number of the compliance page: a maker's (or the city's) filings of the window — of
 * one delay bucket, all, or the late ones — or those overdue at one instant (`at`). At most `limit` rows,
 * latest deadline first.
 */
export async function complianceFilings(db: Db, actor: Actor, q: Record<string, unknown>, limit = 500, now = new Date()) {
  assertSupervisor(actor);
  // No maker: the whole city (the city-wide charts' numbers).
  const maker = typeof q.maker === 'string' && q.maker !== '' ? q.maker : null;
  if (maker !== null && !UUID.test(maker)) throw invalidField(F.maker, '应为制作单位编号（UUID）', 'must be a maker ID (UUID)');
  const query = db('filing_deadlines as f')
    .join('cases as c', 'c.id', 'f.case_id')
    .join('holders as h', 'h.id', 'c.holder_id')
    .join('makers as m', 'm.id', 'f.maker_id');
  if (maker) query.where('f.maker_id', maker);
  let at: Date | null = null;
  let bucket: FilingSelection | null = null;
  if (q.at !== undefined && q.at !== '') {
    at = new Date(String(q.at));
    if (Number.isNaN(at.getTime())) throw invalidField(F.at, '应为 ISO 8601 时间', 'must be an ISO 8601 instant');
    query.whereNotNull('f.overdue_at').where('f.due_at', '<', at).where((w) => w.whereNull('f.first_filed_at').orWhere('f.first_filed_at', '>', at!));
  } else {
    if (!SELECTIONS.includes(q.bucket as FilingSelection)) throw invalidField(F.bucket, `应为 ${SELECTIONS.join('、')} 之一`, `must be one of ${SELECTIONS.join(', ')}`);
    bucket = q.bucket as FilingSelection;
    const b = DELAY_BUCKETS.find((x) => x.key === bucket);
    const weeks = parseWeeks(q.weeks);
    const from = new Date(now.getTime() - weeks * 7 * 24 * HOUR);
    query.where('f.started_at', '>=', from).where('f.started_at', '<=', now);
    if (bucket === 'late') query.whereRaw('coalesce(f.first_filed_at, ?::timestamptz) > f.due_at', [now]);
    else if (!b) {
      // 'all': the whole window
    } else if (b.key === 'unfiled') query.whereNull('f.first_filed_at').where('f.due_at', '<', now);
    else {
      query.whereNotNull('f.first_filed_at').whereRaw(`f.first_filed_at - f.started_at >= ? * interval '1 hour'`, [b.fromH]);
      if (b.toH !== null) query.whereRaw(`f.first_filed_at - f.started_at < ? * interval '1 hour'`, [b.toH]);
    }
  }
  const rows: FilingRow[] = await query
    .orderBy('f.due_at', 'desc')
    .limit(limit)
    .select(
      'f.case_id', 'f.kind', 'f.district_code', 'm.name as maker_name', 'h.name as holder_name', 'f.started_at', 'f.due_at', 'f.first_filed_at',
      db.raw('floor(extract(epoch from (coalesce(f.first_filed_at, ?::timestamptz) - f.started_at)) / 60)::int as delay_minutes', [at ?? now]),
    );
  const makerRow = maker ? await db('makers').where({ id: maker }).first('name') : null;
  return { maker: maker ? { id: maker, name: (makerRow?.name as string | undefined) ?? maker } : null, at, bucket, rows };
}
