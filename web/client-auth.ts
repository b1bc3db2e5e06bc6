// U2: authentication of API clients' access tokens (from POST /api/oauth/token), before every other
// authentication so that the public verification route counts a client's calls against the client. A token
// of the client format that is unknown, expired or of a suspended client is refused outright (401); a valid
// one makes `req.actor` the client's service account with the token's scopes. Each client has its own rate
// limit (requests per minute, set at registration; each web process counts its own): 429 with Retry-After.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../infra/db';
import { ACCESS_TOKEN_PREFIX, authenticateClientToken } from '../usecases/api-clients';
import { ApiError } from './errors';
import { rateLimit } from './rate-limit';

declare module 'express-serve-static-core' {
  interface Request {
    clientRateLimit?: number;
  }
}

export function clientAuthentication(db: Db): RequestHandler {
  const perClient = rateLimit({ limit: (req) => req.clientRateLimit ?? 1, windowMs: 60_000, key: (req) => `client:${req.actor!.client!.id}` });
  return async (req: Request, res: Response, next: NextFunction) => {
    const match = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
    if (!match || !match[1].startsWith(ACCESS_TOKEN_PREFIX)) return next();
    try {
      const found = match[1].length <= 200 ? await authenticateClientToken(db, match[1]) : null;
      if (!found) {
        res.set('www-authenticate', 'Bearer error="invalid_token"');
        return next(new ApiError(401, 'invalid_token', '访问令牌无效、已过期或客户端已被暂停，请重新申请', 'The access token is invalid or expired, or the client is suspended; request a new one'));
      }
      req.actor = found.actor;
      req.clientRateLimit = found.rateLimitPerMinute;
      perClient(req, res, next);
    } catch (e) {
      next(e);
    }
  };
}
