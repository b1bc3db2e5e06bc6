// OpenTelemetry traces (off unless an OTLP endpoint is configured): the Node SDK with the http and pg
// instrumentations, exporting by OTLP/HTTP to a collector. Started by each process's entry point before it
// loads express, pg or the Temporal SDK (`web/tracing.ts`, `workers/tracing.ts`), so their modules are patched.
// The Temporal interceptors (@temporalio/interceptors-opentelemetry) carry the trace from the web's client
// into workflows and activities; workflow spans reach the exporter through the worker's sink (`workflowSpans`).
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface Tracing {
  enabled: boolean;
  /** Where the spans go; the main worker hands it to the workflow span sink. */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Flushes the spans not yet sent. */
  shutdown(): Promise<void>;
}

// Probes and scrapes are not worth a trace each.
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

let current: Tracing = { enabled: false, spanProcessor: new NoopSpanProcessor(), resource: Resource.empty(), shutdown: async () => undefined };

/** The OTLP/HTTP traces endpoint configured by the standard variables, or undefined (tracing off). */
export function tracesEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces`;
  return undefined;
}

/** Starts the SDK once for this process (a no-op without an endpoint); `serviceName` unless OTEL_SERVICE_NAME says otherwise. */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  const url = tracesEndpoint(env);
  if (current.enabled || !url) return current;
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME || serviceName });
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url }));
  const sdk = new NodeSDK({
    resource,
    spanProcessors: [spanProcessor],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0]) }),
      // Only queries inside a traced request or activity (not the pool's idle chatter); never their parameters.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
    ],
  });
  sdk.start();
  current = { enabled: true, spanProcessor, resource, shutdown: () => sdk.shutdown() };
  return current;
}

/** This process's tracing (disabled until startTracing found an endpoint). */
export function tracing(): Tracing {
  return current;
}
