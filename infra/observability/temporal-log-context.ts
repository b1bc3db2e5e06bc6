// Client side of the log context's trip into Temporal: every workflow this process starts, signals, queries
// or updates gets the current log context (the HTTP request's id) in a header, read by the workflow
// interceptor (workflows/log-context-interceptors.ts) and passed on to activities and child workflows. The
// workflow touched is added to the request's context, so the request's own lines name it too.
import type { Headers } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Next, WorkflowClientInterceptor, WorkflowSignalInput, WorkflowSignalWithStartInput, WorkflowStartInput, WorkflowStartUpdateInput, WorkflowQueryInput } from '@temporalio/client';
import { LOG_CONTEXT_HEADER, idsOfWorkflow, type LogContext } from '../../domain/log-context';
import { addToLogContext, currentLogContext } from './logger';

function withContext(headers: Headers, workflowId: string): Headers {
  addToLogContext({ workflowId, ...idsOfWorkflow(workflowId) });
  const ctx: LogContext = { ...currentLogContext() };
  if (!ctx.requestId) return headers; // nothing to carry (a timer in the web process, a script)
  return { ...headers, [LOG_CONTEXT_HEADER]: defaultPayloadConverter.toPayload({ requestId: ctx.requestId }) };
}

export class LogContextClientInterceptor implements WorkflowClientInterceptor {
  start(input: WorkflowStartInput, next: Next<WorkflowClientInterceptor, 'start'>) {
    return next({ ...input, headers: withContext(input.headers, input.options.workflowId) });
  }
  signalWithStart(input: WorkflowSignalWithStartInput, next: Next<WorkflowClientInterceptor, 'signalWithStart'>) {
    return next({ ...input, headers: withContext(input.headers, input.options.workflowId) });
  }
  signal(input: WorkflowSignalInput, next: Next<WorkflowClientInterceptor, 'signal'>) {
    return next({ ...input, headers: withContext(input.headers, input.workflowExecution.workflowId) });
  }
  query(input: WorkflowQueryInput, next: Next<WorkflowClientInterceptor, 'query'>) {
    return next({ ...input, headers: withContext(input.headers, input.workflowExecution.workflowId) });
  }
  startUpdate(input: WorkflowStartUpdateInput, next: Next<WorkflowClientInterceptor, 'startUpdate'>) {
    return next({ ...input, headers: withContext(input.headers, input.workflowExecution.workflowId) });
  }
}
