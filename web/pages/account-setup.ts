// The one-time set-password page of a new account (issue 16 point 7): public, the link is the credential.
// The form's CSRF token is a double-submit cookie, as the login form's (there is no session yet).
import express, { Router, type Request, type Response } from 'express';
import type { Deps } from '../../usecases/deps';
import { completeAccountSetup, setupLinkAccount } from '../../usecases/account-admin';
import { sameSecret } from '../../usecases/web-accounts';
import { refusalOf, type Refusal } from './forms';
import { publicPage } from './guards';
import { renderPage } from './render';
import { cookiesOf, LOGIN_CSRF_COOKIE, loginCsrfToken } from './session';

const urlencoded = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 5 });

export function accountSetupPages(deps: Deps): Router {
  const r = Router();

  const show = (req: Request, res: Response, data: { username?: string; done?: boolean; refusal?: Refusal | null }, status = 200) =>
    renderPage(req, res, 'account-setup', {
      title: req.lang === 'en' ? 'Set your password' : '设置初始密码',
      setupCsrf: loginCsrfToken(req, res),
      action: req.originalUrl.split('?')[0],
      username: data.username,
      done: data.done,
      errors: data.refusal?.fields,
      alert: data.refusal?.alert,
    }, status);

  r.get('/account-setup/:token', publicPage(), async (req, res) => {
    res.set('cache-control', 'no-store').set('referrer-policy', 'no-referrer');
    try {
      const account = await setupLinkAccount(deps.db, String(req.params.token));
      show(req, res, { username: account.username });
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      show(req, res, { refusal }, refusal.status);
    }
  });

  const form = Object.assign(
    (req: Request, res: Response, next: (e?: unknown) => void) =>
      urlencoded(req, res, (e?: unknown) => {
        if (e) return next(e);
        if (!sameSecret((req.body as Record<string, unknown> | undefined)?._csrf, cookiesOf(req)[LOGIN_CSRF_COOKIE])) {
          return show(req, res, { refusal: { status: 403, fields: {}, alert: { zh: '表单已过期，请重新打开链接', en: 'The form has expired; open the link again' } } }, 403);
        }
        next();
      }),
    { csrf: true as const },
  );

  r.post('/account-setup/:token', publicPage(), form, async (req, res) => {
    res.set('cache-control', 'no-store').set('referrer-policy', 'no-referrer');
    const body = req.body as Record<string, unknown>;
    try {
      if (body.password !== body.confirm_password) {
        return show(req, res, { refusal: { status: 400, fields: { confirm_password: { zh: '确认密码：与密码不一致', en: 'Confirm password: does not match the password' } }, alert: null } }, 400);
      }
      const done = await completeAccountSetup(deps.db, String(req.params.token), { password: body.password });
      show(req, res, { username: done.username, done: true });
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      show(req, res, { refusal }, refusal.status);
    }
  });
  return r;
}
