// The back office's state as Prometheus reads it (GET /metrics, administrators only): the open review tasks
// and the overdue police filings (M3), by district, counted in PostgreSQL at each scrape; and what this web
// process's OCSP responder holds in memory (bounded, whatever requests arrive).
import type { Actor } from '../domain/actor';
import { forbidden } from '../domain/refusals';
import type { Db } from '../infra/db';
import { registry, stateGauge } from '../infra/observability/metrics';
import { ocspCacheSize } from '../infra/pki/ocsp';

/** Registers the gauges read from this database (once per app). */
export function registerStateMetrics(db: Db): void {
  stateGauge('eseal_open_tasks', 'Review tasks not yet decided, by kind and district', ['kind', 'district'] as const, async () => {
    const rows = await db('tasks').where({ status: 'open' }).groupBy('kind', 'district_code').select('kind', 'district_code').count<Array<{ kind: string; district_code: string; count: string }>>('* as count');
    return rows.map((r) => ({ labels: { kind: r.kind, district: r.district_code }, value: Number(r.count) }));
  });
  stateGauge('eseal_overdue_filings', 'Police filings past their deadline and not yet made (M3), by district', ['district'] as const, async () => {
    const rows = await db('filing_deadlines').whereNotNull('overdue_at').whereNull('first_filed_at').groupBy('district_code').select('district_code').count<Array<{ district_code: string; count: string }>>('* as count');
    return rows.map((r) => ({ labels: { district: r.district_code }, value: Number(r.count) }));
  });
  stateGauge('eseal_ocsp_cache_entries', "What this web process's OCSP responder keeps in memory: certificate statuses and signed responses", ['kind'] as const, async () => {
    const size = ocspCacheSize(db);
    return [{ labels: { kind: 'statuses' }, value: size.statuses }, { labels: { kind: 'responses' }, value: size.responses }];
  });
}

/** The metrics in Prometheus's text format, for an administrator (Prometheus scrapes with an admin's API token). */
export async function readMetrics(actor: Actor): Promise<{ contentType: string; body: string }> {
  if (actor.role !== 'admin') throw forbidden('Metrics are for administrators', '运行指标仅供管理员查看');
  return { contentType: registry.contentType, body: await registry.metrics() };
}
