// The one place where an activity's failure is judged (both workers install it):
// - a domain error (domain/errors.ts: a business rule refused the step) will fail the same way on every
//   attempt, so it becomes a non-retryable ApplicationFailure of type <code>, with the bilingual messages in
//   its details ({ code, messageZh, messageEn, httpStatus, field }) for the workflow and the case to say why;
// - anything else (a lost connection, a restarting service, a domain error marked `retryable`, such as a stored
//   file an operator can restore) stays retryable under the activity's policy
//   (workflows/activity-policies.ts);
// - an activity given a heartbeat timeout heartbeats every third of it while it runs, so a worker that dies
//   is noticed within that timeout (this proves the process is alive, not that the work progresses).
import { ApplicationFailure } from '@temporalio/common';
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptors, Next } from '@temporalio/worker';
import { isDomainError, type DomainError } from '../domain/errors';

/** What a non-retryable failure made from a domain error carries in its details. */
export interface DomainFailureDetails {
  code: string;
  messageZh: string;
  messageEn: string;
  httpStatus: number;
  field?: string;
}

export function domainErrorToFailure(e: DomainError): ApplicationFailure {
  const details: DomainFailureDetails = { code: e.code, messageZh: e.messageZh, messageEn: e.messageEn, httpStatus: e.httpStatus };
  if (e.field !== undefined) details.field = e.field;
  return ApplicationFailure.create({ type: e.code, message: e.messageEn, nonRetryable: true, details: [details], cause: e });
}

class FailureInterceptor implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const every = this.ctx.info.heartbeatTimeoutMs ? Math.max(500, Math.floor(this.ctx.info.heartbeatTimeoutMs / 3)) : 0;
    const beat = every ? setInterval(() => this.ctx.heartbeat(), every) : undefined;
    try {
      return await next(input);
    } catch (e) {
      throw isDomainError(e) && !e.retryable ? domainErrorToFailure(e) : e;
    } finally {
      if (beat) clearInterval(beat);
    }
  }
}

export const activityInterceptors = (ctx: Context): ActivityInterceptors => ({ inbound: new FailureInterceptor(ctx) });
