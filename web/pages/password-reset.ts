// C3: the keeper's one-time password-reset page (public: the link, the ID number and the SMS code are the
// credential) and the inbox's way to it (holder staff: a link minted for the keeper on opening the message).
// The form's CSRF token is a double-submit cookie, as the login form's (there is no session).
import express, { Router, type Request, type Response } from 'express';
import type { Deps } from '../../usecases/deps';
import { resetPasswordWithCode, sendResetCode } from '../../usecases/keeper-operations';
import { openResetFromInbox, resetLinkState } from '../../usecases/password-reset-page';
import { sameSecret } from '../../usecases/web-accounts';
import { refusalOf, type Refusal } from './forms';
import { page, publicPage } from './guards';
import { renderPage } from './render';
import { cookiesOf, LOGIN_CSRF_COOKIE, loginCsrfToken } from './session';

const urlencoded = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 8 });
const beijing = (d: Date) => new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');

type Step = 'id' | 'code' | 'done' | 'closed';

export function passwordResetPages(deps: Deps): Router {
  const r = Router();
  const tokenOf = (req: Request) => String(req.params.token);

  const show = (req: Request, res: Response, step: Step, data: { sealCode?: string; expiresAt?: Date; phone?: string; refusal?: Refusal | null; values?: Record<string, string> } = {}, status = 200) => {
    res.set('cache-control', 'no-store').set('referrer-policy', 'no-referrer');
    renderPage(req, res, 'password-reset', {
      title: req.lang === 'en' ? 'Reset the protection password' : '重置印章保护口令',
      resetCsrf: loginCsrfToken(req, res),
      base: `/password-reset/${tokenOf(req)}`,
      step: { [step]: true },
      sealCode: data.sealCode,
      expiresAt: data.expiresAt && beijing(data.expiresAt),
      phone: data.phone,
      errors: data.refusal?.fields,
      alert: data.refusal?.alert,
      values: data.values ?? {},
    }, status);
  };
  /** A refusal of the link itself closes the page; one of a field keeps the step. */
  const refused = (req: Request, res: Response, e: unknown, step: Step, values: Record<string, string>) => {
    const refusal = refusalOf(e);
    if (!refusal) throw e;
    const closed = refusal.status === 404 || refusal.status === 410 || refusal.status === 409;
    show(req, res, closed ? 'closed' : step, { refusal, values }, refusal.status);
  };

  // Holder staff: the message's link gives a fresh one-time link for the keeper (minted now, hash only stored).
  r.get('/password-reset/cases/:caseId', page('holder'), async (req, res) => {
    const token = await openResetFromInbox(deps.db, req.actor!, String(req.params.caseId));
    if (!token) return show(req, res, 'closed', { refusal: { status: 410, fields: {}, alert: { zh: '此次重置已完成、已锁定或已过期', en: 'This reset is completed, locked or expired' } } }, 410);
    res.set('cache-control', 'no-store').set('referrer-policy', 'no-referrer').redirect(303, `/password-reset/${token}`);
  });

  r.get('/password-reset/:token', publicPage(), async (req, res) => {
    try {
      const s = await resetLinkState(deps, tokenOf(req));
      show(req, res, 'id', { sealCode: s.seal_code, expiresAt: s.expires_at });
    } catch (e) {
      refused(req, res, e, 'closed', {});
    }
  });

  const form = Object.assign(
    (req: Request, res: Response, next: (e?: unknown) => void) =>
      urlencoded(req, res, (e?: unknown) => {
        if (e) return next(e);
        if (!sameSecret((req.body as Record<string, unknown> | undefined)?._csrf, cookiesOf(req)[LOGIN_CSRF_COOKIE])) {
          return show(req, res, 'closed', { refusal: { status: 403, fields: {}, alert: { zh: '表单已过期，请重新打开链接', en: 'The form has expired; open the link again' } } }, 403);
        }
        next();
      }),
    { csrf: true as const },
  );

  r.post('/password-reset/:token/code', publicPage(), form, async (req, res) => {
    const body = req.body as Record<string, string>;
    try {
      const sent = await sendResetCode(deps, tokenOf(req), { id_number: body.id_number, id_type: body.id_type || undefined });
      const s = await resetLinkState(deps, tokenOf(req));
      show(req, res, 'code', { sealCode: s.seal_code, expiresAt: sent.code_expires_at, phone: sent.phone_masked });
    } catch (e) {
      refused(req, res, e, 'id', { id_number: body.id_number ?? '' });
    }
  });

  r.post('/password-reset/:token', publicPage(), form, async (req, res) => {
    const body = req.body as Record<string, string>;
    try {
      if (body.password !== body.confirm_password) {
        return show(req, res, 'code', { refusal: { status: 400, fields: { confirm_password: { zh: '确认口令：与新口令不一致', en: 'Confirm password: does not match the new password' } }, alert: null } }, 400);
      }
      const status = await resetPasswordWithCode(deps, tokenOf(req), { code: body.code, password: body.password });
      show(req, res, 'done', { expiresAt: status.expires_at ?? undefined });
    } catch (e) {
      refused(req, res, e, 'code', { code: '' });
    }
  });
  return r;
}
