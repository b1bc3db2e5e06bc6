// Every HTTP request gets a request id (the caller's X-Request-Id if it is a plain token, else a new one),
// echoed in the answer; the request runs inside a log context with it, so every line it causes carries it,
// and so does every workflow it starts or signals (the Temporal client interceptor sends it in a header).
// When the answer is sent: one log line and the HTTP metrics, by route (the matched pattern, not the path), which
// also names the request's trace span.
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { REQUEST_ID_PATTERN, type LogContext } from '../domain/log-context';
import { logContext, logger } from '../infra/observability/logger';
import { observeHttpRequest } from '../infra/observability/metrics';
import { trace } from '@opentelemetry/api';

// Routes whose :id is a case: their lines name the case even when the request touches no workflow (a read).
const CASE_ROUTE = /^\/(api\/applications|cases)\/:id(\/|$)/;

/** The route pattern that answered (e.g. `/api/applications/:id`), or `unmatched`. */
export function routeOf(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  return typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched';
}

export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    const requestId = given && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const store: LogContext = { requestId };
    const started = process.hrtime.bigint();
    const span = trace.getActiveSpan(); // the HTTP server span (tracing on), named once the route is known
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req);
      span?.updateName(`${req.method} ${route}`).setAttribute('http.route', route);
      const id = (req.params as Record<string, unknown> | undefined)?.id;
      if (!store.caseId && CASE_ROUTE.test(route) && typeof id === 'string') store.caseId = id;
      observeHttpRequest(req.method, route, res.statusCode, seconds);
      logContext.run(store, () =>
        logger.info({ method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) }, `${req.method} ${route} ${res.statusCode}`),
      );
    });
    logContext.run(store, () => next());
  };
}
