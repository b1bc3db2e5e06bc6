// Login, logout and the user's own password (P1).
import { Router, type Request, type Response } from 'express';
import express from 'express';
import type { Deps } from '../../usecases/deps';
import { changeLoginPassword, login, logout, sameSecret, SESSION_ABSOLUTE_MS } from '../../usecases/web-accounts';
import { flash, formBody, refusalOf, safeNext } from './forms';
import { renderPage } from './render';
import { clearCookie, cookiesOf, LOGIN_CSRF_COOKIE, loginCsrfToken, SESSION_COOKIE, setCookie } from './session';
import { HOME, page, publicPage } from './guards';

const urlencoded = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });

export function accountPages(deps: Deps): Router {
  const r = Router();

  const showLogin = (req: Request, res: Response, extra: { errors?: Record<string, { zh: string; en: string }>; alert?: { zh: string; en: string } | null; username?: string } = {}, status = 200) => {
    renderPage(req, res, 'login', {
      title: req.lang === 'en' ? 'Log in' : '登录',
      loginCsrf: loginCsrfToken(req, res),
      next: safeNext(req.query.next ?? req.body?.next, ''),
      values: { username: extra.username ?? '' },
      errors: extra.errors,
      alert: extra.alert,
    }, status);
  };

  r.get('/login', publicPage(), (req, res) => {
    if (req.actor && req.webSession) return res.redirect(303, HOME[req.actor.role]);
    showLogin(req, res);
  });

  // The login form has no session yet: its CSRF token is a double-submit cookie made when the form was shown.
  const loginForm = Object.assign(
    (req: Request, res: Response, next: (e?: unknown) => void) =>
      urlencoded(req, res, (e?: unknown) => {
        if (e) return next(e);
        const submitted = (req.body as Record<string, unknown> | undefined)?._csrf;
        if (!sameSecret(submitted, cookiesOf(req)[LOGIN_CSRF_COOKIE])) {
          return showLogin(req, res, { alert: { zh: '登录表单已过期，请重新输入', en: 'The login form has expired; please enter your details again' } }, 403);
        }
        next();
      }),
    { csrf: true as const },
  );

  r.post('/login', publicPage(), loginForm, async (req, res) => {
    const body = req.body as Record<string, string>;
    try {
      const result = await login(deps.db, body, { userAgent: req.get('user-agent'), ip: req.ip });
      setCookie(req, res, SESSION_COOKIE, result.sessionId, { maxAgeSeconds: SESSION_ABSOLUTE_MS / 1000 });
      clearCookie(req, res, LOGIN_CSRF_COOKIE);
      res.redirect(303, safeNext(body.next, HOME[result.actor.role]));
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      showLogin(req, res, { errors: refusal.fields, alert: refusal.alert && !Object.keys(refusal.fields).length ? refusal.alert : null, username: typeof body.username === 'string' ? body.username.slice(0, 100) : '' }, refusal.status === 429 ? 429 : 401);
    }
  });

  r.post('/logout', page('officer', 'supervisor', 'maker', 'holder', 'admin'), formBody(), async (req, res) => {
    if (req.webSession) await logout(deps.db, req.webSession);
    clearCookie(req, res, SESSION_COOKIE);
    res.redirect(303, '/login');
  });

  const showPassword = (req: Request, res: Response, extra: { errors?: Record<string, { zh: string; en: string }>; alert?: { zh: string; en: string } | null } = {}, status = 200) =>
    renderPage(req, res, 'password', { title: req.lang === 'en' ? 'Change password' : '修改登录密码', errors: extra.errors, alert: extra.alert }, status);

  r.get('/account/password', page('officer', 'supervisor', 'maker', 'holder', 'admin'), (req, res) => showPassword(req, res));
  r.post('/account/password', page('officer', 'supervisor', 'maker', 'holder', 'admin'), formBody(), async (req, res) => {
    if (!req.webSession) return showPassword(req, res, { alert: { zh: '请用浏览器登录后修改密码', en: 'Log in with the browser to change your password' } }, 400);
    try {
      const { sessionId } = await changeLoginPassword(deps.db, req.actor!, req.webSession, req.form!.fields, { userAgent: req.get('user-agent'), ip: req.ip });
      setCookie(req, res, SESSION_COOKIE, sessionId, { maxAgeSeconds: SESSION_ABSOLUTE_MS / 1000 });
      flash(req, res, 'passwordChanged');
      res.redirect(303, HOME[req.actor!.role]);
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      showPassword(req, res, { errors: refusal.fields, alert: refusal.alert }, refusal.status);
    }
  });
  return r;
}
