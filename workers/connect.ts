// Shared start-up for worker processes: configuration, database and Temporal connection.
import { NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { loadConfig, type Config } from '../infra/config';
import { createDb, type Db } from '../infra/db';
import { temporalConnectionOptions } from '../infra/temporal';
import { PdfRenderer } from '../infra/documents/pdf-renderer';
import { PinoSdkLogger } from '../infra/observability/temporal-runtime-logger';

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
    // The SDK logs every bundle and state change at INFO; WARN keeps a terminal readable. Workflow and
    // activity lines go to pino at its own level (LOG_LEVEL).
    const level = (process.env.WORKER_LOG_LEVEL ?? 'WARN') as LogLevel;
    Runtime.install({ logger: new PinoSdkLogger(level), ...temporalMetricsOptions() });
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

/**
 * The Temporal SDK's own metrics (workflow and activity task latencies, poller and slot counts, …) are served
 * by the SDK's Prometheus exporter at ESEAL_TEMPORAL_METRICS_ADDRESS (host:port, one per worker process; off
 * when unset), beside the back office's metrics at the web process's GET /metrics.
 */
export function temporalMetricsOptions(env: NodeJS.ProcessEnv = process.env) {
  const bindAddress = env.ESEAL_TEMPORAL_METRICS_ADDRESS;
  return bindAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress } } } } : {};
}
