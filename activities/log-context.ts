// Activity side of the log context: each activity runs inside the log context of its workflow (workflow id,
// case or seal id) and of the request that set it moving (the header the workflow interceptor sends), so
// every line logged by the activity and by the infrastructure it calls (PostgreSQL, the HSM, blobs) names them.
import type { Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptors, Next } from '@temporalio/worker';
import { LOG_CONTEXT_HEADER, idsOfWorkflow, parseLogContext, type LogContext } from '../domain/log-context';
import { logContext, logger } from '../infra/observability/logger';

class LogContextInterceptor implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = this.ctx.info;
    const header = input.headers[LOG_CONTEXT_HEADER];
    let given: LogContext = {};
    try {
      given = header ? parseLogContext(defaultPayloadConverter.fromPayload(header)) : {};
    } catch {
      given = {}; // an unreadable header costs the lines their request id, nothing more
    }
    const workflowId = info.workflowExecution?.workflowId ?? '';
    const store: LogContext & { activity: string; attempt: number } = { requestId: given.requestId, workflowId, ...idsOfWorkflow(workflowId), activity: info.activityType, attempt: info.attempt };
    return logContext.run(store, async () => {
      try {
        const result = await next(input);
        logger.debug('activity completed');
        return result;
      } catch (e) {
        logger.warn({ err: e }, `activity ${info.activityType} failed (attempt ${info.attempt})`);
        throw e;
      }
    });
  }
}

export const logContextInterceptors = (ctx: Context): ActivityInterceptors => ({ inbound: new LogContextInterceptor(ctx) });
