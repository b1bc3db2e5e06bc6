// Shared start-up for worker processes: configuration, database and Temporal connection.
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { loadConfig, type Config } from '../infra/config';
import { createDb, type Db } from '../infra/db';
import { temporalConnectionOptions } from '../infra/temporal';
import { PdfRenderer } from '../infra/documents/render';

export interface WorkerContext {
  config: Config;
  db: Db;
  connection: NativeConnection;
  /** One Chromium per worker process, started on the first document. */
  pdf(): Promise<PdfRenderer>;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function connectWorkerContext(config: Config = loadConfig()): Promise<WorkerContext> {
  if (!runtimeInstalled) {
    // The SDK logs every bundle and state change at INFO; WARN keeps a terminal readable.
    const level = (process.env.WORKER_LOG_LEVEL ?? 'WARN') as LogLevel;
    Runtime.install({ logger: new DefaultLogger(level) });
    runtimeInstalled = true;
  }
  const databaseUrl = config.runtime.databaseUrl;
  if (!databaseUrl) throw new Error('DATABASE_URL is not set: start workers through `make up` or set it.');
  const db = createDb(databaseUrl);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  let renderer: Promise<PdfRenderer> | undefined;
  return {
    config,
    db,
    connection,
    pdf: () => (renderer ??= PdfRenderer.launch()),
    async close() {
      if (renderer) await (await renderer).close();
      await connection.close();
      await db.destroy();
    },
  };
}
