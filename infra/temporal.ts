// Connection settings for clients and workers, from temporal.yaml (address, namespace, mTLS).
import { readFileSync } from 'node:fs';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { Config } from './config';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { LogContextClientInterceptor } from './observability/temporal-log-context';

/** The subset that both the client's Connection and the worker's NativeConnection accept. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
}

export function temporalConnectionOptions(config: Config): TemporalConnectionOptions {
  const { address, tls } = config.temporal;
  if (!tls.enabled) return { address };
  return {
    address,
    tls: {
      serverNameOverride: tls.serverName || undefined,
      serverRootCACertificate: tls.caFile ? readFileSync(tls.caFile) : undefined,
      clientCertPair:
        tls.certFile && tls.keyFile ? { crt: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } : undefined,
    },
  };
}

/**
 * `failFast`: retry an unreachable server for about 3 s instead of the default ~17 s, so that a web request
 * answers 503 (outage, try again) while its client still waits, rather than hanging. Its channel also tries to
 * reconnect at least once a second (gRPC's default backoff grows to 2 minutes): once the server is back, the
 * next request's 3 s of retries reach it, instead of failing while the channel still waits out its backoff.
 */
export async function createTemporalClient(config: Config, opts: { failFast?: boolean } = {}): Promise<Client> {
  const failFast = opts.failFast
    ? {
        interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 6 }))],
        channelArgs: { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 1000 },
      }
    : {};
  const connection = await Connection.connect({ ...temporalConnectionOptions(config), ...failFast });
  // The request's log context and trace (a no-op when tracing is off) travel with every workflow it starts or signals.
  return new Client({ connection, namespace: config.temporal.namespace, interceptors: { workflow: [new LogContextClientInterceptor(), new OpenTelemetryWorkflowClientInterceptor()] } });
}
