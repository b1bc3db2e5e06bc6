// Role guards of the pages. `page(...)` carries its roles (and `publicPage()` says 'public') so that
// test/unit/route-authorisation.test.ts can read every page route's rule from the router.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Role } from '../auth';
import { forbidden, unauthenticated } from '../errors';
import { takeFlash } from './forms';

export const HOME: Record<Role, string> = { officer: '/tasks', supervisor: '/supervision', maker: '/cases', holder: '/seals', admin: '/admin', exchange: '/login' }; // exchange: API only (I2)
export const ALL_ROLES: Role[] = ['officer', 'supervisor', 'maker', 'holder', 'admin'];

/** Role guard of a page: no login → the login page (GET) or 401; another role → 403 page. */
export function page(...roles: Role[]): RequestHandler {
  const guard: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    if (!req.actor) {
      if (req.method === 'GET') return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      return next(unauthenticated());
    }
    if (req.actor.client || !roles.includes(req.actor.role)) return next(forbidden()); // U2: no page for API clients
    takeFlash(req, res);
    next();
  };
  return Object.assign(guard, { roles });
}

/** A route open to anyone (the login page), marked so that the route test sees it is public on purpose. */
export function publicPage(): RequestHandler {
  const open: RequestHandler = (_req, _res, next) => next();
  return Object.assign(open, { roles: 'public' as const });
}
