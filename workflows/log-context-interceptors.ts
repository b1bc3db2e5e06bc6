// Workflow side of the log context (installed on the main worker and in the replay test): the request id that
// started the workflow, or the latest one that signalled or updated it, is added to every line of the
// workflow's logger (`log` of @temporalio/workflow, routed by the worker's Runtime logger to pino) and sent
// on in the headers of its activities and child workflows. Headers and log lines are not commands: adding
// them changes nothing a replay compares.
import {
  ContinueAsNew,
  defaultPayloadConverter,
  log,
  workflowInfo,
  type ActivityInput,
  type ContinueAsNewInput,
  type GetLogAttributesInput,
  type Headers,
  type LocalActivityInput,
  type Next,
  type SignalInput,
  type SignalWorkflowInput,
  type StartChildWorkflowExecutionInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { LOG_CONTEXT_HEADER, idsOfWorkflow, parseLogContext, type LogContext } from '../domain/log-context';

function read(headers: Headers): LogContext {
  const payload = headers[LOG_CONTEXT_HEADER];
  if (!payload) return {};
  try {
    return parseLogContext(defaultPayloadConverter.fromPayload(payload));
  } catch {
    return {}; // a header this code cannot read costs the log line its request id, nothing more
  }
}

class Inbound implements WorkflowInboundCallsInterceptor {
  constructor(private readonly ctx: LogContext) {}

  private take(headers: Headers) {
    const given = read(headers);
    if (given.requestId) this.ctx.requestId = given.requestId;
  }

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    this.take(input.headers);
    log.info('workflow started');
    try {
      const result = await next(input);
      log.info('workflow finished');
      return result;
    } catch (e) {
      if (e instanceof ContinueAsNew) throw e; // its next run logs on
      log.warn('workflow ended with an error', { error: e instanceof Error ? e.message : String(e) });
      throw e;
    }
  }

  async handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>) {
    this.take(input.headers);
    log.info(`signal ${input.signalName}`);
    return next(input);
  }

  async handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>) {
    this.take(input.headers);
    log.info(`update ${input.name}`);
    return next(input);
  }
}

class Outbound implements WorkflowOutboundCallsInterceptor {
  constructor(private readonly ctx: LogContext) {}

  private headers(headers: Headers): Headers {
    return this.ctx.requestId ? { ...headers, [LOG_CONTEXT_HEADER]: defaultPayloadConverter.toPayload({ requestId: this.ctx.requestId }) } : headers;
  }

  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    return next({ ...input, headers: this.headers(input.headers) });
  }
  scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>) {
    return next({ ...input, headers: this.headers(input.headers) });
  }
  startChildWorkflowExecution(input: StartChildWorkflowExecutionInput, next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>) {
    return next({ ...input, headers: this.headers(input.headers) });
  }
  signalWorkflow(input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>) {
    return next({ ...input, headers: this.headers(input.headers) });
  }
  continueAsNew(input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>) {
    return next({ ...input, headers: this.headers(input.headers) });
  }
  getLogAttributes(input: GetLogAttributesInput, next: Next<WorkflowOutboundCallsInterceptor, 'getLogAttributes'>) {
    return next({ ...input, ...this.ctx });
  }
}

/** One context per workflow run (the factory is called for each). */
export const interceptors = (): WorkflowInterceptors => {
  const ctx: LogContext = { ...idsOfWorkflow(workflowInfo().workflowId) };
  return { inbound: [new Inbound(ctx)], outbound: [new Outbound(ctx)] };
};
