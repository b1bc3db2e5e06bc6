// The Temporal side of tracing on the workers (@temporalio/interceptors-opentelemetry): each activity runs in a
// span that continues its workflow's trace (from the headers the workflow interceptor writes), and the spans
// workflows make in their sandbox leave it through the `exporter` sink into this process's span processor.
// Installed whether tracing is on or not, so the bundle and the worker are one and the same: without an OTLP
// endpoint the tracer is a no-op and the workflow spans end in a no-op processor.
import type { Context } from '@temporalio/activity';
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptors, InjectedSinks } from '@temporalio/worker';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { tracing } from '../infra/observability/tracing';

export const tracingActivityInterceptors = (ctx: Context): ActivityInterceptors => ({
  inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
  outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
});

export function workflowSpanSinks(): InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }> {
  const { spanProcessor, resource } = tracing();
  return { exporter: makeWorkflowExporter(spanProcessor, resource) };
}
