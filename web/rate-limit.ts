// A per-address limit for public routes that do real work for anyone (verification): a fixed window per
// client address, in this process's memory (each web process counts its own; a deployment behind several
// processes adds their limits). Over the limit: 429 with Retry-After, in Chinese and English.
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface RateLimit {
  /** Requests allowed per window and key (a number, or read from the request: an API client's own limit). */
  limit: number | ((req: Request) => number);
  windowMs: number;
  /** Most addresses tracked at once; the oldest windows are dropped first (bounded memory). */
  maxKeys?: number;
  /** Who is counted: the client address by default. */
  key?: (req: Request) => string;
  /** Requests this limit does not count (they are limited elsewhere). */
  skip?: (req: Request) => boolean;
}

export function rateLimit(opts: RateLimit): RequestHandler {
  const windows = new Map<string, { start: number; count: number }>();
  const maxKeys = opts.maxKeys ?? 100_000;
  return (req: Request, res: Response, next: NextFunction) => {
    if (opts.skip?.(req)) return next();
    const now = Date.now();
    const key = opts.key ? opts.key(req) : (req.ip ?? req.socket.remoteAddress ?? 'unknown');
    let w = windows.get(key);
    if (!w || now - w.start >= opts.windowMs) {
      windows.delete(key); // re-inserted last: Map order is then the order of window starts
      w = { start: now, count: 0 };
      windows.set(key, w);
      while (windows.size > maxKeys) windows.delete(windows.keys().next().value!);
    }
    w.count++;
    if (w.count > (typeof opts.limit === 'number' ? opts.limit : opts.limit(req))) {
      const retryAfter = Math.max(1, Math.ceil((w.start + opts.windowMs - now) / 1000));
      res
        .status(429)
        .set('retry-after', String(retryAfter))
        .json({ error: { code: 'rate_limited', message_zh: `请求过于频繁，请 ${retryAfter} 秒后再试`, message_en: `Too many requests; try again in ${retryAfter} s`, fields: [] } });
      return;
    }
    next();
  };
}
