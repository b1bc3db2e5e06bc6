// Idempotent API changes (issue 17): a POST, PUT, PATCH or DELETE carrying an `Idempotency-Key` is done once per
// user and key. A repeat — typically a retry after the answer was lost on the way — gets the first answer
// (status and JSON body, marked `Idempotent-Replayed: true`) instead of acting again or being refused by a state
// the first request already changed. The answer is stored before it leaves, so a client that saw nothing and
// retries always finds it. Outages and failures (5xx) and 202 (still in progress) are not stored: the retry
// runs the request again (use-cases derive their ids from the key, so it finds what the first one started).
import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { personalData } from '../infra/crypto/personal-data';
import { ApiError } from './errors';
import { logger } from '../infra/observability/logger';

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const IDEMPOTENCY_KEY = /^[\w.:-]{1,100}$/;
/** How long a first request may run before a repeat takes it over (its process is taken to have died). */
const LEASE_SECONDS = 120;
/** Answers are kept this long; a key used again later starts afresh. */
const KEEP_HOURS = 24;

const headerField = { field: 'Idempotency-Key', message_zh: '幂等键只能含字母、数字和 . _ : -，最长 100 个字符', message_en: 'Idempotency-Key: only letters, digits and . _ : -, at most 100 characters' };

/** Same key, same request: the method, the path with its query, and the JSON body (multipart bodies are streams, not hashed). */
function fingerprint(req: Request): string {
  const json = req.is('application/json') ? JSON.stringify(req.body ?? null) : '';
  return createHash('sha256').update(`${req.method}\n${req.originalUrl}\n${json}`).digest('hex');
}

export function idempotentRequests(deps: { db: Db; hsm?: Hsm }): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const key = req.get('idempotency-key');
    if (key === undefined || !CHANGES.has(req.method.toUpperCase()) || !req.path.startsWith('/api/') || !req.actor) return next();
    if (!IDEMPOTENCY_KEY.test(key)) return next(new ApiError(400, 'invalid_input', '输入有误：' + headerField.message_zh, 'Invalid input: ' + headerField.message_en, [headerField]));
    handle(deps, req, res, next, req.actor.userId, key).catch(next);
  };
}

async function handle(deps: { db: Db; hsm?: Hsm }, req: Request, res: Response, next: NextFunction, userId: string, key: string) {
  const { db } = deps;
  const fp = fingerprint(req);
  const place = { table: 'idempotent_requests', column: 'body', row: `${userId}:${key}` };
  // Claim the key: a new row, or one whose answer is past keeping, or one whose first request died (lease over).
  const claimed = await db.raw(
    `insert into idempotent_requests (user_id, key, fingerprint, method, path, lease_until)
     values (?, ?, ?, ?, ?, now() + make_interval(secs => ?))
     on conflict (user_id, key) do update
       set fingerprint = excluded.fingerprint, method = excluded.method, path = excluded.path, lease_until = excluded.lease_until,
           status = null, content_type = null, body = null, created_at = now(), completed_at = null
       where idempotent_requests.created_at < now() - make_interval(hours => ?)
          or (idempotent_requests.completed_at is null and idempotent_requests.lease_until < now() and idempotent_requests.fingerprint = excluded.fingerprint)
     returning user_id`,
    [userId, key, fp, req.method.toUpperCase(), req.originalUrl.slice(0, 300), LEASE_SECONDS, KEEP_HOURS],
  );
  if (claimed.rows.length === 0) {
    const seen = await db('idempotent_requests').where({ user_id: userId, key }).first();
    if (!seen || seen.fingerprint !== fp) {
      throw new ApiError(422, 'IDEMPOTENCY_KEY_REUSED', '该幂等键已用于另一个请求（方法、路径或内容不同）', 'This Idempotency-Key was already used for another request (different method, path or body)', [
        { field: 'Idempotency-Key', message_zh: '已用于另一个请求', message_en: 'already used for another request' },
      ]);
    }
    if (seen.completed_at === null) {
      res.set('Retry-After', '1');
      throw new ApiError(409, 'IDEMPOTENCY_IN_PROGRESS', '使用该幂等键的请求正在处理中，请稍后重试', 'A request with this Idempotency-Key is still being processed; try again shortly');
    }
    const body = await personalData(deps).decrypt(seen.body as string, place);
    res.status(seen.status).set('Idempotent-Replayed', 'true').type(seen.content_type ?? 'application/json').send(body);
    return;
  }

  // First time: run the request, and store its answer before the answer leaves.
  let body: unknown;
  let isJson = false;
  const json = res.json.bind(res);
  res.json = (b: unknown) => {
    body = b;
    isJson = true;
    return json(b);
  };
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  let ended = false;
  res.end = ((...args: unknown[]) => {
    if (ended) return end(...args);
    ended = true;
    const status = res.statusCode;
    // 202 is no final answer (the work goes on): a repeat asks again and gets the outcome.
    const keep = status < 500 && status !== 202 && isJson;
    const settle = keep
      ? personalData(deps)
          .encrypt(JSON.stringify(body), place)
          .then((enc) => db('idempotent_requests').where({ user_id: userId, key }).update({ status, content_type: 'application/json', body: enc, completed_at: db.fn.now(), lease_until: null }))
      : db('idempotent_requests').where({ user_id: userId, key }).whereNull('completed_at').delete(); // a retry runs again
    void settle
      .catch((e) => logger.error({ err: e, method: req.method }, 'idempotency: could not store the answer'))
      .finally(() => end(...args));
    return res;
  }) as Response['end'];
  next();
}
