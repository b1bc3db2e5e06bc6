// What ties a log line to the request, the case and the workflow it belongs to. Shared by the web process
// (which makes the request id), the Temporal client (which sends it in a header) and the workflows and
// activities (which read it back), so it lives here, free of Node and of the SDK.

/** Temporal header that carries the log context from the client to workflows, and on to activities and children. */
export const LOG_CONTEXT_HEADER = 'eseal-log-context';

export interface LogContext {
  requestId?: string;
  workflowId?: string;
  caseId?: string;
  sealId?: string;
}

/** A request id given by the caller is kept if it is a plain token (it is echoed and logged), else one is made. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

// Workflow ids are `<kind>:<id>`; applications and change requests (password resets too) are cases, seal and
// archive workflows belong to a seal.
const CASE_KINDS = new Set(['application', 'change']);
const SEAL_KINDS = new Set(['seal', 'archive']);

/** The case or seal a workflow belongs to, read from its id. */
export function idsOfWorkflow(workflowId: string): Pick<LogContext, 'caseId' | 'sealId'> {
  const at = workflowId.indexOf(':');
  if (at < 0) return {};
  const kind = workflowId.slice(0, at);
  const id = workflowId.slice(at + 1);
  if (CASE_KINDS.has(kind)) return { caseId: id };
  if (SEAL_KINDS.has(kind)) return { sealId: id };
  return {};
}

/** The fields of a log context read from an untrusted header value (only known string fields are kept). */
export function parseLogContext(value: unknown): LogContext {
  if (!value || typeof value !== 'object') return {};
  const out: LogContext = {};
  for (const key of ['requestId', 'workflowId', 'caseId', 'sealId'] as const) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'string' && v.length <= 200) out[key] = v;
  }
  return out;
}
