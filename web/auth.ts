// Bearer-token authentication for the JSON API and role/scope guards (P3: officers see their district only).
import { createHash, randomBytes } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../infra/db';
import { ApiError, forbidden, unauthenticated } from './errors';
import { CLIENT_ROUTE_SCOPES } from './client-scopes';
import type { Actor, Role } from '../domain/actor';

export type { Actor, Role } from '../domain/actor';

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
  }
}

export const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** Creates a token for a user; only its hash is stored, the token itself is shown once. */
export async function issueApiToken(db: Db, userId: string, label: string): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db('api_tokens').insert({ token_sha256: tokenHash(token), user_id: userId, label });
  return token;
}

export function authenticate(db: Db): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    if (req.actor) return next(); // an API client's access token (web/client-auth.ts)
    const header = req.get('authorization') ?? '';
    const match = /^Bearer ([A-Za-z0-9_-]{20,200})$/.exec(header);
    if (!match) return next();
    const row = await db('api_tokens as t')
      .join('users as u', 'u.id', 't.user_id')
      .where('t.token_sha256', tokenHash(match[1]))
      .andWhere((q) => q.whereNull('t.expires_at').orWhere('t.expires_at', '>', db.fn.now()))
      .whereNull('u.disabled_at') // a disabled account's tokens stop working at once
      .first('u.id', 'u.username', 'u.role', 'u.district_code', 'u.maker_id', 'u.holder_id');
    if (row) {
      req.actor = {
        userId: row.id,
        username: row.username,
        role: row.role,
        districtCode: row.district_code,
        makerId: row.maker_id,
        holderId: row.holder_id,
      };
    }
    next();
  };
}

export function requireRole(...roles: Role[]): RequestHandler {
  const guard: RequestHandler = (req, _res, next) => {
    if (!req.actor) return next(unauthenticated());
    if (req.actor.client) return next(clientScopeRefusal(req)); // U2: a client's scopes replace the role check
    if (!roles.includes(req.actor.role)) return next(forbidden());
    next();
  };
  return Object.assign(guard, { roles }); // read by test/unit/route-authorisation.test.ts
}

/** U2: null if the acting client's token holds the scope this route needs, else the refusal. */
export function clientScopeRefusal(req: Request): ApiError | undefined {
  const client = req.actor?.client;
  if (!client) return undefined;
  const scope = CLIENT_ROUTE_SCOPES[`${req.method.toUpperCase()} ${(req.route as { path?: string } | undefined)?.path ?? req.path}`];
  if (scope && client.scopes.includes(scope)) return undefined;
  return scope
    ? new ApiError(403, 'insufficient_scope', `接口客户端的令牌没有 ${scope} 权限`, `The API client's token lacks the ${scope} scope`)
    : new ApiError(403, 'insufficient_scope', '接口客户端不能使用此功能', 'Not available to API clients');
}
