// Per-request audit context (the client's address and a request ID), carried through async calls so that a
// use-case writing an audit entry needs only the actor: `auditRead(db, actor, …)`. Outside an HTTP request
// (workflows, scripts) there is no context and the address is recorded as null.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface AuditRequestContext {
  requestId: string;
  clientAddress: string | null;
  /** Reads already recorded in this request (a use-case polling a view records it once). */
  reads: Set<string>;
}

export const auditContext = new AsyncLocalStorage<AuditRequestContext>();

export const currentAuditContext = (): AuditRequestContext | undefined => auditContext.getStore();
