// /readyz: Temporal, PostgreSQL and the HSM, each checked for real and reported by name. The probe is public,
// so it creates no work: no workflow, no signature. The deep check runs at most once per few seconds (every
// caller in that window shares its answer), so a probe at any rate costs the services nothing more.
import type { Client } from '@temporalio/client';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';

type Check = { ok: boolean; detail: string; ms: number };
export interface Readiness { ready: boolean; checks: { temporal: Check; postgresql: Check; hsm: Check }; checked_at: string }
export interface ReadinessDeps { db: Db; temporal: Client; config: Config; hsm?: Hsm }

/** An HSM worker counts as up if it polled its task queue within this window (Temporal keeps pollers ~5 minutes). */
const HSM_POLLER_FRESH_MS = 70_000;
const CHECK_TIMEOUT_MS = 3_000;

async function timed(fn: () => Promise<string>): Promise<Check> {
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)));
    return { ok: true, detail: await Promise.race([fn(), timeout]), ms: Date.now() - start };
  } catch (e) {
    return { ok: false, detail: (e as Error).message.split('\n')[0], ms: Date.now() - start };
  } finally {
    clearTimeout(timer);
  }
}

async function check(deps: ReadinessDeps): Promise<Readiness> {
  const { config } = deps;
  const [temporal, postgresql, hsm] = await Promise.all([
    timed(async () => {
      await deps.temporal.workflowService.describeNamespace({ namespace: config.temporal.namespace });
      return `namespace ${config.temporal.namespace} at ${config.temporal.address}`;
    }),
    timed(async () => {
      const r = await deps.db.raw('select current_setting(\'server_version\') as v');
      return `PostgreSQL ${r.rows[0].v}`;
    }),
    timed(async () => {
      // This process's own session, and an HSM worker polling its queue: both without creating anything.
      if (deps.hsm && !(await deps.hsm.loggedIn())) throw new Error(`not logged in to token ${deps.hsm.tokenLabel}`);
      const queue = config.temporal.taskQueues.hsm;
      const { pollers } = await deps.temporal.workflowService.describeTaskQueue({ namespace: config.temporal.namespace, taskQueue: { name: queue }, taskQueueType: 2 /* activity */ });
      const fresh = (pollers ?? []).filter((p) => {
        const t = p.lastAccessTime;
        const ms = t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
        return Date.now() - ms < HSM_POLLER_FRESH_MS;
      });
      if (fresh.length === 0) throw new Error(`no HSM worker polls task queue ${queue}`);
      return `${deps.hsm ? `logged in to token ${deps.hsm.tokenLabel}; ` : ''}${fresh.length} HSM worker(s) polling ${queue}`;
    }),
  ]);
  const checks = { temporal, postgresql, hsm };
  return { ready: Object.values(checks).every((c) => c.ok), checks, checked_at: new Date().toISOString() };
}

/** One probe per process: the last answer is served for `ttlMs`, and concurrent callers share one check. */
export function readinessProbe(deps: ReadinessDeps, ttlMs = 5_000) {
  let last: { at: number; result: Readiness } | null = null;
  let running: Promise<Readiness> | null = null;
  return async (): Promise<Readiness> => {
    if (last && Date.now() - last.at < ttlMs) return last.result;
    running ??= check(deps)
      .then((result) => {
        last = { at: Date.now(), result };
        return result;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
}
