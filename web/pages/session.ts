// Session authentication for the browser (P1), beside the API's bearer tokens: an httpOnly, SameSite=Lax
// cookie (Secure over HTTPS) holds a random 32-byte session id; the session row (only the id's SHA-256 is
// stored) gives the same `req.actor` as a token does. Every form carries the session's CSRF synchronizer
// token; the JSON API accepts a cookie session for reading only (or with an x-csrf-token header), so a
// cookie alone can never change anything through /api.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../../infra/db';
import { findSession, newSecret, sameSecret, type WebSession } from '../../usecases/web-accounts';

export const SESSION_COOKIE = 'eseal_sid';
export const LANG_COOKIE = 'eseal_lang';
/** Double-submit token of the login form, before there is a session. */
export const LOGIN_CSRF_COOKIE = 'eseal_login_csrf';
export const FLASH_COOKIE = 'eseal_flash';

export type Lang = 'zh' | 'en';

declare module 'express-serve-static-core' {
  interface Request {
    webSession?: WebSession;
    lang?: Lang;
    cookiesParsed?: Record<string, string>;
  }
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    if (!name || name in out) continue;
    let value = part.slice(i + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}

export const cookiesOf = (req: Request) => (req.cookiesParsed ??= parseCookies(req.get('cookie')));

export interface CookieOptions {
  maxAgeSeconds?: number;
  httpOnly?: boolean;
}

/** Sets a cookie: SameSite=Lax, Path=/, httpOnly unless said otherwise, Secure when the request is HTTPS. */
export function setCookie(req: Request, res: Response, name: string, value: string, opts: CookieOptions = {}) {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'SameSite=Lax'];
  if (opts.httpOnly !== false) parts.push('HttpOnly');
  if (req.secure) parts.push('Secure');
  if (opts.maxAgeSeconds !== undefined) parts.push(`Max-Age=${Math.floor(opts.maxAgeSeconds)}`);
  res.append('Set-Cookie', parts.join('; '));
}

export const clearCookie = (req: Request, res: Response, name: string) => setCookie(req, res, name, '', { maxAgeSeconds: 0 });

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Language (`?lang=en|zh`, remembered in a cookie; Chinese by default) and the session, when the request
 * carries no bearer token. Sets `req.actor` exactly as the bearer authentication does.
 */
export function sessionAuth(db: Db): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const cookies = cookiesOf(req);
    const asked = typeof req.query.lang === 'string' ? req.query.lang : undefined;
    if (asked === 'en' || asked === 'zh') {
      req.lang = asked;
      if (cookies[LANG_COOKIE] !== asked) setCookie(req, res, LANG_COOKIE, asked, { maxAgeSeconds: 365 * 86400, httpOnly: false });
    } else {
      req.lang = cookies[LANG_COOKIE] === 'en' ? 'en' : 'zh';
    }
    if (req.actor || !cookies[SESSION_COOKIE] || req.path.startsWith('/static/')) return next();
    const found = await findSession(db, cookies[SESSION_COOKIE]);
    if (!found) {
      clearCookie(req, res, SESSION_COOKIE);
      return next();
    }
    req.webSession = found.session;
    // The API changes nothing on a cookie alone: a script of this site must name the session's CSRF token.
    const isApi = req.path.startsWith('/api/');
    if (isApi && !SAFE_METHODS.has(req.method) && !sameSecret(req.get('x-csrf-token'), found.session.csrfToken)) return next();
    req.actor = found.actor;
    next();
  };
}

/** True when a submitted form's `_csrf` is the session's synchronizer token. */
export const csrfMatches = (req: Request, submitted: unknown) => !!req.webSession && sameSecret(submitted, req.webSession.csrfToken);

/** The login form's token (double submit: cookie and hidden field), made when the form is shown. */
export function loginCsrfToken(req: Request, res: Response): string {
  const existing = cookiesOf(req)[LOGIN_CSRF_COOKIE];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = newSecret();
  setCookie(req, res, LOGIN_CSRF_COOKIE, token, { maxAgeSeconds: 3600 });
  return token;
}
