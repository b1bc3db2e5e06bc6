// The OpenTelemetry workflow interceptors (@temporalio/interceptors-opentelemetry) without spans for queries
// and update validators. Workflow code runs with a seeded random generator, which span ids draw from too; a
// query or a validator is not replayed, so a span made there moves the generator on the first run only, and
// every uuid4() after it (a task's id) comes out different on replay: after a worker restart the case no
// longer knew its own open task (sdk-typescript#1935). Spans of the workflow, its updates, signals and
// activities stay: they are made again on replay.
import type { WorkflowInboundCallsInterceptor, WorkflowInterceptors } from '@temporalio/workflow';
import { OpenTelemetryInboundInterceptor, OpenTelemetryInternalsInterceptor, OpenTelemetryOutboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/workflow';

class ReplaySafeInboundInterceptor implements WorkflowInboundCallsInterceptor {
  private readonly otel = new OpenTelemetryInboundInterceptor();
  execute: WorkflowInboundCallsInterceptor['execute'] = (input, next) => this.otel.execute(input, next);
  handleSignal: WorkflowInboundCallsInterceptor['handleSignal'] = (input, next) => this.otel.handleSignal(input, next);
  handleUpdate: WorkflowInboundCallsInterceptor['handleUpdate'] = (input, next) => this.otel.handleUpdate(input, next);
  // validateUpdate and handleQuery: not intercepted (see above).
}

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [new ReplaySafeInboundInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
