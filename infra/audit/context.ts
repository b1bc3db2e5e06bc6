// Per-request audit context (the client's address and a request ID), carried through async calls so that a
// use-case writing an audit entry needs only the actor: `auditRead(db, actor, …)`. Outside an HTTP request
// (workflows, scripts) there is no context and the address is recorded as null.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface AuditRequestContext {
  requestId: string;
  clientAddress: string | null;
  /** Reads already recorded in this request (a use-case polling a view records it once). */
  reads: Set<string>;
  /**
   * The change's own entry is written where it takes effect (a task's decision, with the task's closing in
   * the workflow's activity): the middleware then records only refusals and failures of this request, so the
   * trail never shows an answered attempt as done (a retried request answered with the first one's outcome).
   */
  effectRecordedElsewhere?: boolean;
}

export const auditContext = new AsyncLocalStorage<AuditRequestContext>();

export const currentAuditContext = (): AuditRequestContext | undefined => auditContext.getStore();

/** Tells the audit middleware that this request's change is recorded where it takes effect (see above). */
export function recordEffectElsewhere(): void {
  const ctx = auditContext.getStore();
  if (ctx) ctx.effectRecordedElsewhere = true;
}
