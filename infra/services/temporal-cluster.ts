// A real Temporal cluster on this machine (`npm run cluster`): Temporal server v1.29.1 built from the Go
// module proxy (scripts/bootstrap.sh --cluster), persistence and visibility in their own PostgreSQL databases
// (set up and upgraded by Temporal's own schema tool with the schemas shipped in the server module), and the
// frontend, history, matching and internal-worker services as separate processes, one config for all.
// The processes themselves are started and restarted by scripts/cluster.ts; this module prepares them.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { Connection } from '@temporalio/client';
import type { Config } from '../config';
import { findTemporalCli } from './temporal-dev-server';

const run = promisify(execFile);

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
export const TEMPORAL_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

/** Every port of the cluster, derived from one base so that two clusters (cluster, chaos) never collide. */
export function clusterPorts(base: number) {
  return {
    frontend: base,
    frontendHttp: base + 1,
    frontendMembership: base + 2,
    history: base + 3,
    historyMembership: base + 4,
    matching: base + 5,
    matchingMembership: base + 6,
    worker: base + 7,
    workerMembership: base + 8,
    postgres: base + 10,
    loadBalancer: base + 20,
    loadBalancerStats: base + 21,
    web: [base + 22, base + 23],
    ui: base + 30,
    smtp: base + 40, // mailpit (infra/services/mailpit.ts)
    mailUi: base + 41,
  };
}
export type ClusterPorts = ReturnType<typeof clusterPorts>;

export interface TemporalClusterFiles {
  server: string;
  sqlTool: string;
  schemaDir: string;
  uiServer: string;
}

/** The binaries and schemas that `scripts/bootstrap.sh --cluster` put under .tools/. */
export function findTemporalClusterFiles(config: Config): TemporalClusterFiles {
  const tools = path.join(config.rootDir, '.tools');
  const files = {
    server: process.env.TEMPORAL_SERVER ?? path.join(tools, 'bin/temporal-server'),
    sqlTool: process.env.TEMPORAL_SQL_TOOL ?? path.join(tools, 'bin/temporal-sql-tool'),
    schemaDir: process.env.TEMPORAL_SCHEMA_DIR ?? path.join(tools, `temporal-server-${TEMPORAL_SERVER_VERSION}/schema/postgresql/v12`),
    uiServer: process.env.TEMPORAL_UI_SERVER ?? path.join(tools, 'bin/temporal-ui-server'),
  };
  for (const [what, file] of Object.entries(files)) {
    if (!existsSync(file)) throw new Error(`Temporal cluster: no ${what} at ${file}; run \`bash scripts/bootstrap.sh --cluster\` (npm run cluster does)`);
  }
  return files;
}

export interface TemporalDatabase {
  user: string;
  password: string;
  database: string;
  visibilityDatabase: string;
  port: number;
}

/**
 * Temporal's login and two databases on the PostgreSQL server whose superuser is `adminUrl`: the role is made
 * here (with CREATEDB, so the schema tool creates its databases itself), its password kept in `dir` (0600).
 * Then the schema tool creates each database, sets up the base schema once and upgrades it to the latest
 * version shipped with the server (a no-op when it is current).
 */
export async function setupTemporalDatabases(
  adminUrl: string,
  port: number,
  files: TemporalClusterFiles,
  dir: string,
  log: (m: string) => void,
): Promise<TemporalDatabase> {
  mkdirSync(dir, { recursive: true });
  const passwordFile = path.join(dir, 'temporal-db-password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('hex'), { mode: 0o600 });
  const db: TemporalDatabase = {
    user: 'temporal',
    password: readFileSync(passwordFile, 'utf8').trim(),
    database: 'temporal',
    visibilityDatabase: 'temporal_visibility',
    port,
  };
  const admin = new Client({ connectionString: `${adminUrl}/postgres` });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_roles where rolname = $1', [db.user]);
    // The password as a literal: ALTER/CREATE ROLE take no bind parameters. It is hex, so quoting is safe.
    await admin.query(`${exists.rowCount ? 'alter' : 'create'} role ${db.user} login createdb password '${db.password}'`);
  } finally {
    await admin.end();
  }
  const env = { ...process.env, SQL_HOST: '127.0.0.1', SQL_PORT: String(port), SQL_USER: db.user, SQL_PASSWORD: db.password };
  const tool = (database: string, ...args: string[]) => run(files.sqlTool, ['--plugin', 'postgres12', '--db', database, ...args], { env });
  for (const [database, schema] of [[db.database, 'temporal'], [db.visibilityDatabase, 'visibility']] as const) {
    const existed = await databaseExists(adminUrl, database);
    if (!existed) await tool(database, 'create-database');
    if (!(await hasSchemaVersion(adminUrl, database))) await tool(database, 'setup-schema', '-v', '0.0');
    await tool(database, 'update-schema', '-d', path.join(files.schemaDir, schema, 'versioned'));
    const version = await schemaVersion(adminUrl, database);
    log(`Temporal cluster: database ${database} ${existed ? 'at' : 'created, schema'} version ${version} (temporal-sql-tool)`);
  }
  return db;
}

async function withDb<T>(adminUrl: string, database: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: `${adminUrl}/${database}` });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
const databaseExists = (adminUrl: string, name: string) =>
  withDb(adminUrl, 'postgres', async (c) => ((await c.query('select 1 from pg_database where datname = $1', [name])).rowCount ?? 0) > 0);
const hasSchemaVersion = (adminUrl: string, name: string) =>
  withDb(adminUrl, name, async (c) => (await c.query("select to_regclass('public.schema_version') as t")).rows[0].t !== null);
const schemaVersion = (adminUrl: string, name: string) =>
  withDb(adminUrl, name, async (c) => (await c.query('select curr_version from schema_version limit 1')).rows[0]?.curr_version as string);

/**
 * Writes the server's configuration (from infra/services/cluster/temporal-server.yaml) and its dynamic
 * configuration into `dir`; returns the arguments that start one service with it.
 */
export function writeTemporalServerConfig(dir: string, ports: ClusterPorts, db: TemporalDatabase, historyShards: number) {
  mkdirSync(dir, { recursive: true });
  const templates = path.join(__dirname, 'cluster');
  const dynamicConfigFile = path.join(dir, 'dynamic.yaml');
  writeFileSync(dynamicConfigFile, readFileSync(path.join(templates, 'temporal-dynamic.yaml')));
  const values: Record<string, string | number> = {
    historyShards,
    database: db.database,
    visibilityDatabase: db.visibilityDatabase,
    postgresPort: db.port,
    user: db.user,
    password: db.password,
    frontendPort: ports.frontend,
    frontendHttpPort: ports.frontendHttp,
    frontendMembershipPort: ports.frontendMembership,
    historyPort: ports.history,
    historyMembershipPort: ports.historyMembership,
    matchingPort: ports.matching,
    matchingMembershipPort: ports.matchingMembership,
    workerPort: ports.worker,
    workerMembershipPort: ports.workerMembership,
    dynamicConfigFile,
  };
  const file = path.join(dir, 'cluster.yaml');
  writeFileSync(file, renderTemplate(readFileSync(path.join(templates, 'temporal-server.yaml'), 'utf8'), values), { mode: 0o600 });
  chmodSync(file, 0o600); // it holds the database password
  return (service: TemporalService) => ['--root', dir, '--config', '.', '--env', 'cluster', '--allow-no-auth', 'start', '--service', service];
}

/** Fills {{name}} placeholders; a placeholder without a value is an error, not an empty string. */
export function renderTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    if (!(k in values)) throw new Error(`template placeholder {{${k}}} has no value`);
    return String(values[k]);
  });
}

/** Waits until the frontend answers (the cluster's system namespace exists once history owns its shards). */
export async function waitForFrontend(address: string, timeoutMs: number, gaveUp: () => string | undefined = () => undefined) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const reason = gaveUp();
    if (reason) throw new Error(reason);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
        return;
      } finally {
        await connection.close();
      }
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`Temporal frontend at ${address} not ready after ${timeoutMs / 1000} s: ${String(last)}`);
}

/**
 * The application's namespace and the search attributes of temporal.yaml, registered through the frontend
 * with the official CLI (`temporal operator …`), as an operator would on any cluster. Idempotent.
 */
export async function registerNamespace(config: Config, retention: string, log: (m: string) => void) {
  const cli = findTemporalCli(config);
  const { address, namespace, searchAttributes } = config.temporal;
  const base = ['--address', address, '--namespace', namespace];
  const described = await run(cli, ['operator', 'namespace', 'describe', ...base]).then(() => true, () => false);
  if (!described) {
    await run(cli, ['operator', 'namespace', 'create', ...base, '--retention', retention]);
    log(`Temporal cluster: namespace ${namespace} created (retention ${retention})`);
  }
  // A new namespace reaches the services' namespace caches within their refresh interval (about 10 s). With SQL
  // visibility each attribute is an alias in the namespace's record, written read-modify-write from a cache: a
  // create soon after another can be lost (seen: CaseStatus kept, DistrictCode and MakerId gone, and every
  // workflow task then failing on BadSearchAttributes). So: one attribute per call, and listed again until all are.
  const registered = new Map<string, string>();
  const deadline = Date.now() + 120_000;
  for (;;) {
    const listed = await retrying(() => run(cli, ['operator', 'search-attribute', 'list', ...base, '--output', 'json']), 60_000);
    // The CLI prints the ListSearchAttributes response ({ customAttributes: { name: type }, … }) as JSON.
    const parsed = JSON.parse(listed.stdout) as { customAttributes?: Record<string, unknown> } | Array<{ name: string }>;
    const existing = new Set(Array.isArray(parsed) ? parsed.map((a) => a.name) : Object.keys(parsed.customAttributes ?? {}));
    const missing = Object.entries(searchAttributes).filter(([name]) => !existing.has(name));
    if (missing.length === 0) break;
    if (Date.now() > deadline) throw new Error(`Temporal cluster: search attributes ${missing.map(([n]) => n).join(', ')} still missing on ${namespace} after 120 s`);
    for (const [name, type] of missing) {
      await run(cli, ['operator', 'search-attribute', 'create', ...base, '--name', name, '--type', type]).catch(() => undefined); // listed again below
      registered.set(name, `${name} (${type})`);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  if (registered.size > 0) log(`Temporal cluster: search attributes ${[...registered.values()].join(', ')} registered on ${namespace}`);
}

async function retrying<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** The Web UI server's configuration in `dir`, pointed at the cluster's frontend; returns its start arguments. */
export function writeTemporalUiConfig(dir: string, ports: ClusterPorts, namespace: string): string[] {
  mkdirSync(dir, { recursive: true });
  const template = readFileSync(path.join(__dirname, 'cluster', 'temporal-ui.yaml'), 'utf8');
  writeFileSync(path.join(dir, 'ui.yaml'), renderTemplate(template, { frontendPort: ports.frontend, uiPort: ports.ui, namespace }));
  return ['--root', dir, '--config', '.', '--env', 'ui', 'start'];
}
