// The audit middleware for the JSON API (M6, P1), mounted right after authentication:
//  - every request runs in an audit context (client address, request ID), which use-cases that read
//    personal data use through `auditRead` (infra/audit/log.ts);
//  - every change (POST, PUT, PATCH, DELETE) is recorded with its outcome — done, refused (4xx) or failed
//    (5xx) — and every refused read (401, 403) too: who, role, district or maker, what, which case, when,
//    from which address. The entry is committed before the response leaves, so a client that got an
//    answer can rely on the entry being there.
// Request bodies are never recorded (they carry ID numbers and passwords); a credential in a path (the
// one-time password-reset link) is replaced by `{token}`.
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../db';
import { auditContext, type AuditRequestContext } from './context';
import { appendAudit } from './log';
import { logger } from '../observability/logger';

type TargetType = 'api_client' | 'case' | 'task' | 'seal' | 'material' | 'maker' | 'holder' | 'statement' | 'password_reset_link' | 'audit' | 'user' | 'account_setup_link' | 'platform' | 'trust_list_change';

interface Rule {
  method: string;
  pattern: RegExp;
  action: string;
  target?: TargetType;
  /** The path's id is the case, the new thing's id is in the response body (an upload). */
  createdInCase?: TargetType;
}

// Names for the API's operations; any other route is recorded as "METHOD /normalised/path".
const RULES: Rule[] = [
  { method: 'POST', pattern: /^\/api\/applications$/, action: 'case.submit', target: 'case' },
  { method: 'POST', pattern: /^\/api\/trust-list\/platforms$/, action: 'trust_list.propose' },
  { method: 'POST', pattern: /^\/api\/trust-list\/platforms\/([^/]+)\/changes$/, action: 'trust_list.propose', target: 'platform' },
  { method: 'POST', pattern: /^\/api\/trust-list\/changes\/([^/]+)\/decision$/, action: 'trust_list.decide', target: 'trust_list_change' },
  { method: 'POST', pattern: /^\/api\/exchange\/filings$/, action: 'exchange.file' },
  { method: 'GET', pattern: /^\/api\/exchange\/seals$/, action: 'exchange.export' },
  { method: 'GET', pattern: /^\/api\/applications\/([^/]+)$/, action: 'case.read', target: 'case' },
  { method: 'POST', pattern: /^\/api\/applications\/([^/]+)\/materials$/, action: 'material.upload', createdInCase: 'material' },
  { method: 'POST', pattern: /^\/api\/applications\/([^/]+)\/production$/, action: 'case.production', target: 'case' },
  { method: 'POST', pattern: /^\/api\/applications\/([^/]+)\/filing$/, action: 'case.filing', target: 'case' },
  { method: 'POST', pattern: /^\/api\/applications\/([^/]+)\/collection$/, action: 'case.collection', target: 'case' },
  { method: 'GET', pattern: /^\/api\/materials\/([^/]+)$/, action: 'material.read', target: 'material' },
  { method: 'POST', pattern: /^\/api\/tasks\/([^/]+)\/decision$/, action: 'task.decide', target: 'task' },
  { method: 'GET', pattern: /^\/api\/seals\/([^/]+)$/, action: 'seal.read', target: 'seal' },
  { method: 'GET', pattern: /^\/api\/seals\/([^/]+)\/documents\/[^/]+$/, action: 'document.read', target: 'seal' },
  { method: 'POST', pattern: /^\/api\/seals\/([^/]+)\/changes$/, action: 'seal.change', target: 'seal' },
  { method: 'POST', pattern: /^\/api\/seals\/([^/]+)\/keepers$/, action: 'keeper.name', target: 'seal' },
  { method: 'DELETE', pattern: /^\/api\/seals\/([^/]+)\/keepers$/, action: 'keeper.remove', target: 'seal' },
  { method: 'GET', pattern: /^\/api\/seals\/([^/]+)\/keepers$/, action: 'keeper.list', target: 'seal' },
  { method: 'POST', pattern: /^\/api\/seals\/([^/]+)\/password$/, action: 'password.set', target: 'seal' },
  { method: 'POST', pattern: /^\/api\/seals\/([^/]+)\/password\/change$/, action: 'password.change', target: 'seal' },
  { method: 'POST', pattern: /^\/api\/seals\/([^/]+)\/password\/reset-requests$/, action: 'password.reset_request', target: 'seal' },
  { method: 'POST', pattern: /^\/api\/seals\/([^/]+)\/signatures$/, action: 'seal.sign', target: 'seal' },
  { method: 'POST', pattern: /^\/api\/password-reset\/[^/]+$/, action: 'password.reset', target: 'password_reset_link' },
  { method: 'POST', pattern: /^\/api\/registration\/holders$/, action: 'holder.register', target: 'holder' },
  { method: 'POST', pattern: /^\/api\/registration\/feed-certificates$/, action: 'registration.feed_certificate_add' },
  { method: 'POST', pattern: /^\/api\/registration\/feed-certificates\/([^/]+)\/withdraw$/, action: 'registration.feed_certificate_withdraw' },
  { method: 'PATCH', pattern: /^\/api\/makers\/([^/]+)\/licence$/, action: 'maker.licence', target: 'maker' },
  { method: 'POST', pattern: /^\/api\/platform\/statements$/, action: 'statement.sign', target: 'statement' },
  { method: 'POST', pattern: /^\/api\/users$/, action: 'account.create', target: 'user' },
  { method: 'POST', pattern: /^\/api\/users\/([^/]+)\/disable$/, action: 'account.disable', target: 'user' },
  { method: 'POST', pattern: /^\/api\/account-setup\/[^/]+$/, action: 'account.setup', target: 'account_setup_link' },
  { method: 'POST', pattern: /^\/admin\/users$/, action: 'account.create', target: 'user' },
  { method: 'POST', pattern: /^\/admin\/users\/([^/]+)\/disable$/, action: 'account.disable', target: 'user' },
  { method: 'POST', pattern: /^\/account-setup\/[^/]+$/, action: 'account.setup', target: 'account_setup_link' },
  { method: 'POST', pattern: /^\/api\/clients$/, action: 'client.register', target: 'api_client' },
  { method: 'POST', pattern: /^\/api\/clients\/([^/]+)\/suspend$/, action: 'client.suspend', target: 'api_client' },
  { method: 'POST', pattern: /^\/api\/clients\/([^/]+)\/resume$/, action: 'client.resume', target: 'api_client' },
  { method: 'POST', pattern: /^\/api\/verifications$/, action: 'document.verify' },
  { method: 'GET', pattern: /^\/api\/audit$/, action: 'audit.search', target: 'audit' },
  { method: 'GET', pattern: /^\/api\/audit\.csv$/, action: 'audit.export', target: 'audit' },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `/api/seals/8c0f…/keepers` → `/api/seals/{id}/keepers`; long opaque segments (tokens) → `{token}`. */
export function normalisePath(p: string): string {
  return p
    .split('/')
    .map((s) => (UUID.test(s) ? '{id}' : /^[A-Za-z0-9_-]{20,}$/.test(s) ? '{token}' : s.length > 100 ? '{long}' : s))
    .join('/');
}

/** The case an entry is about: for a task, seal or material, the case it belongs to. */
async function caseOf(db: Db, type: TargetType | undefined, id: string | null): Promise<string | null> {
  if (!id || !UUID.test(id)) return null;
  const table = type === 'task' ? 'tasks' : type === 'seal' ? 'seals' : type === 'material' ? 'materials' : null;
  if (type === 'case') return id;
  if (!table) return null;
  const row = await db(table).where({ id }).first('case_id').catch(() => undefined);
  return row?.case_id ?? null;
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);

async function record(db: Db, req: Request, res: Response, ctx: AuditRequestContext, body: unknown) {
  const method = req.method.toUpperCase();
  const p = req.path;
  const rule = RULES.find((r) => r.method === method && r.pattern.test(p));
  const pathId = rule ? (rule.pattern.exec(p)?.[1] ?? null) : null;
  const b = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const status = res.statusCode;
  const ok = status < 400;

  let targetType: TargetType | undefined = rule?.target;
  let targetId: string | null = pathId && UUID.test(pathId) ? pathId.toLowerCase() : null;
  let caseId: string | null;
  if (rule?.createdInCase) {
    caseId = targetId;
    targetType = rule.createdInCase;
    targetId = ok ? str(b.id) : null;
  } else {
    if (!targetId && ok && targetType && targetType !== 'password_reset_link' && targetType !== 'account_setup_link' && targetType !== 'audit') targetId = str(b.id); // created by this request
    caseId = await caseOf(db, targetType, targetId);
  }
  const related = str(b.case_id);
  const details: Record<string, unknown> = { method, path: normalisePath(p), status };
  if (related && related !== caseId) details.related_case_id = related; // e.g. the change request a seal change opened
  if (!caseId && related) caseId = related;
  const error = b.error && typeof b.error === 'object' ? (b.error as Record<string, unknown>) : null;
  if (error && typeof error.code === 'string') details.error_code = error.code;

  await appendAudit(db, {
    action: rule?.action ?? `${method} ${normalisePath(p)}`,
    outcome: ok ? 'ok' : status >= 500 ? 'error' : 'refused',
    actor: req.actor ?? null,
    targetType: targetType ?? null,
    targetId,
    caseId,
    clientAddress: ctx.clientAddress,
    requestId: ctx.requestId,
    details,
  });
}

export function auditTrail(db: Db): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const ctx: AuditRequestContext = { requestId: randomUUID(), clientAddress: req.ip ?? req.socket.remoteAddress ?? null, reads: new Set() };
    const isChange = CHANGES.has(req.method.toUpperCase());

    let body: unknown;
    const json = res.json.bind(res);
    res.json = (b: unknown) => {
      body = b;
      return json(b);
    };
    // The response's last bytes wait for the entry: a client that got an answer finds it recorded.
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    let ended = false;
    res.end = ((...args: unknown[]) => {
      const status = res.statusCode;
      if (ended || !(isChange || status === 401 || status === 403) || (status < 400 && ctx.effectRecordedElsewhere)) return end(...args);
      ended = true;
      void record(db, req, res, ctx, body)
        .catch((e) => logger.error({ err: e, method: req.method, path: normalisePath(req.path) }, 'audit: could not record'))
        .finally(() => end(...args));
      return res;
    }) as Response['end'];

    auditContext.run(ctx, () => next());
  };
}
