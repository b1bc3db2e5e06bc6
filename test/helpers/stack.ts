// Integration tests run against the services that scripts/with-stack.ts started (real Temporal dev
// server, PostgreSQL, SoftHSM2 token). These helpers start this project's own workers and web server
// in-process against them, as production does in separate processes.
import { randomUUID } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { temporalConnectionOptions } from '../../infra/temporal';
import { loadConfig, type Config } from '../../infra/config';
import type { Db } from '../../infra/db';
import type { Hsm } from '../../infra/hsm/hsm';
import { issueApiToken, type Actor, type Role } from '../../web/auth';
import { startWebServer } from '../../web/server';
import { createHsmWorker, openHsm } from '../../workers/hsm-worker';
import { createMainWorker } from '../../workers/main-worker';
import { connectWorkerContext, type WorkerContext } from '../../workers/connect';

export function testConfig(env: Record<string, string> = {}): Config {
  const config = loadConfig({ ...process.env, ...env });
  if (!config.runtime.databaseUrl) {
    throw new Error('Integration tests need the real services: run them with `make test` (scripts/with-stack.ts).');
  }
  return config;
}

export interface RunningApp {
  config: Config;
  db: Db;
  /** The web token (OCSP responder key, personal-data KEK), as the web holds it (M4): use-cases' `hsm`. */
  hsm: Hsm;
  /** The issuing token, as HSM workers hold it (issuing CA, platform and audit keys, seal keys). */
  issuingHsm: Hsm;
  url: string;
  /** A Temporal client of the same namespace, for queries in tests. */
  temporalClient: Client;
  /** Environment for child worker processes that must serve the same task queues. */
  workerEnv: Record<string, string>;
  stop(): Promise<void>;
}

/** The workflows as scripts/with-stack.ts bundled them once for the whole run (undefined: bundle them here). */
export const workflowBundlePath = (): string | undefined => process.env.ESEAL_WORKFLOW_BUNDLE || undefined;

/** Workers (main and HSM queues) and the web server, all on the real services. */
export async function startApp(opts: { hsmWorker?: boolean; taskQueueSuffix?: string; pkiAtWebUrl?: boolean } = {}): Promise<RunningApp> {
  // Own task queues keep this app's activities away from workers of other tests in the same namespace.
  const workerEnv: Record<string, string> = opts.taskQueueSuffix
    ? { ESEAL_TEMPORAL_TASK_QUEUES_MAIN: `eseal-main${opts.taskQueueSuffix}`, ESEAL_TEMPORAL_TASK_QUEUES_HSM: `eseal-hsm${opts.taskQueueSuffix}` }
    : {};
  const config = testConfig(workerEnv);
  const ctx: WorkerContext = await connectWorkerContext(config);
  const tokens = await openHsm(ctx);
  const web = await startWebServer(config, 0);
  // pkiAtWebUrl: this app's certificates name this web server's PKI routes (CRL DP, AIA), as in production.
  if (opts.pkiAtWebUrl) config.pki.publicBaseUrl = web.url;
  const workers: Worker[] = [await createMainWorker(ctx, { workflowBundlePath: workflowBundlePath() })];
  if (opts.hsmWorker !== false) workers.push(await createHsmWorker(ctx, tokens));
  const runs = workers.map((w) => w.run());
  const temporalClient = new Client({ connection: await Connection.connect(temporalConnectionOptions(config)), namespace: config.temporal.namespace });
  return {
    temporalClient,
    config,
    db: ctx.db,
    hsm: tokens.web,
    issuingHsm: tokens.issuing,
    url: web.url,
    workerEnv,
    async stop() {
      await temporalClient.connection.close();
      await web.close();
      for (const w of workers) w.shutdown();
      await Promise.all(runs);
      await tokens.close();
      await ctx.close();
    },
  };
}

/** A user of the given role with an API token, unique to this test. */
export async function createUser(
  db: Db,
  role: Role,
  scope: { district_code?: string; maker_id?: string; holder_id?: string } = {},
): Promise<{ id: string; token: string }> {
  const id = randomUUID();
  await db('users').insert({ id, username: `${role}-${id.slice(0, 8)}`, display_name: `test ${role}`, role, ...scope });
  return { id, token: await issueApiToken(db, id, 'test') };
}

export async function api(url: string, token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

/** A user of the given role as the use-cases see it (the Actor web/auth.ts builds from the users row). */
export async function createActor(
  db: Db,
  role: Role,
  scope: { district_code?: string; maker_id?: string; holder_id?: string } = {},
): Promise<Actor> {
  const user = await createUser(db, role, scope);
  return { userId: user.id, username: `${role}-${user.id.slice(0, 8)}`, role, districtCode: scope.district_code ?? null, makerId: scope.maker_id ?? null, holderId: scope.holder_id ?? null };
}
