// Prometheus metrics of this process (prom-client), served by the web process at GET /metrics. Counters
// and histograms are updated where the work happens (HTTP middleware, the HSM adapter); gauges of the
// database's state (open tasks, overdue filings) are read when Prometheus scrapes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'eseal_process_' });

const httpDuration = new Histogram({
  name: 'eseal_http_request_duration_seconds',
  help: 'HTTP requests by method, route pattern and status, and how long they took',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export function observeHttpRequest(method: string, route: string, status: number, seconds: number): void {
  httpDuration.observe({ method, route, status: String(status) }, seconds);
}

const hsmOperations = new Counter({
  name: 'eseal_hsm_operations_total',
  help: 'HSM (PKCS#11) operations by kind and outcome',
  labelNames: ['kind', 'outcome'] as const,
  registers: [registry],
});

/** Runs one HSM operation and counts it by kind and outcome. */
export async function countHsmOperation<T>(kind: string, run: () => Promise<T>): Promise<T> {
  try {
    const result = await run();
    hsmOperations.inc({ kind, outcome: 'ok' });
    return result;
  } catch (e) {
    hsmOperations.inc({ kind, outcome: 'error' });
    throw e;
  }
}

/** A gauge whose values are read at scrape time (one query per scrape), by labels. */
export function stateGauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: () => Promise<Array<{ labels: Record<L, string>; value: number }>>): Gauge<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) registry.removeSingleMetric(name); // a second app in the same process (tests) reads its own database
  return new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const rows = await read();
      this.reset();
      for (const r of rows) this.set(r.labels, r.value);
    },
  });
}
