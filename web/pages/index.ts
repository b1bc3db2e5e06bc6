// The back office in the browser: server-rendered pages over the same use-cases as the JSON API.
// Every page route has a role guard (`page(...)`, its roles readable by the route test) and every form a
// CSRF check (`formBody()`); scope (P3) is applied by the use-cases. Mounted by web/app.ts.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { existsSync } from 'node:fs';
import express, { Router, type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Deps } from '../../usecases/deps';
import { refusalOf } from './forms';
import { renderPage } from './render';
import { SERVICE_NAMES, unreachableService } from '../../infra/outage';
import { accountPages } from './account';
import { inboxPages } from './inbox';
import { officerPages } from './officer';
import { casePages } from './cases';
import { sealPages } from './seals';
import { supervisionPages } from './supervision';
import { trustListPages } from './trust-list';
import { adminPages } from './admin';
import { accountSetupPages } from './account-setup';
import { passwordResetPages } from './password-reset';
import { compliancePages } from './compliance';
import { auditPages } from './audit';
import { videoPages } from './video';
import { verificationPages } from './verification';
import { useApprovalPages } from './use-approval';
import { useRegisterPages } from './use-register';
import { HOME, page } from './guards';
import { logger } from '../../infra/observability/logger';
import { routeOf } from '../request-context'; // the pattern: a path may hold a one-time link's token

export { HOME, page, publicPage } from './guards';

function publicDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'web', 'public');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`web/public not found above ${__dirname}`);
  }
}

const pageErrors: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) return next(err);
  const refusal = refusalOf(err);
  if (refusal) {
    if (refusal.status === 401 && req.method === 'GET') return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    return renderPage(req, res, 'error', { title: String(refusal.status), errorPage: true, status: refusal.status, alert: refusal.alert ?? { zh: '请求被拒绝', en: 'Request refused' } }, refusal.status);
  }
  if (err?.type === 'entity.too.large') {
    return renderPage(req, res, 'error', { title: '413', errorPage: true, status: 413, alert: { zh: '提交的内容过大', en: 'What you sent is too large' } }, 413);
  }
  const service = unreachableService(err);
  if (service) {
    // An outage, not a bug (issue 17): the page says which service and to try again.
    const name = SERVICE_NAMES[service];
    res.set('Retry-After', '5');
    return renderPage(req, res, 'error', { title: '503', errorPage: true, status: 503, alert: { zh: `${name.zh}暂时无法访问，请稍后重试`, en: `${name.en} is unreachable; please try again shortly` } }, 503);
  }
  const ref = randomUUID().slice(0, 8);
  logger.error({ err, reference: ref, method: req.method, route: routeOf(req) }, `web page failed (reference ${ref})`);
  renderPage(req, res, 'error', { title: '500', errorPage: true, status: 500, reference: ref, alert: { zh: `服务器内部错误（参考号 ${ref}），请稍后重试或联系管理员`, en: `Internal server error (reference ${ref}); try again later or contact the administrator` } }, 500);
};

export interface PageRouter extends RequestHandler {
  /** The router itself, for the route-authorisation test (its routes are pages, not the JSON API). */
  pageRouter: Router;
}

export function pageRoutes(deps: Deps): PageRouter {
  const r = Router();
  r.use('/static', express.static(publicDir(), { index: false, maxAge: '1h' }));
  r.get('/', page('officer', 'supervisor', 'maker', 'holder', 'admin'), (req, res) => {
    res.redirect(303, HOME[req.actor!.role]);
  });
  r.use(accountPages(deps));
  r.use(verificationPages(deps));
  r.use(inboxPages(deps)); // holders' and makers' messages (workflows/message-delivery.ts)
  r.use(accountSetupPages(deps)); // public: a new account's one-time set-password link
  r.use(passwordResetPages(deps)); // C3: the keeper's one-time reset page (public) and the inbox's way to it
  r.use(officerPages(deps));
  r.use(casePages(deps));
  r.use(useRegisterPages(deps)); // C4: the holder's use register (用印登记), filters and CSV
  r.use(useApprovalPages(deps)); // 三(四): the holder's approval queue; U1: the keeper's signing page (pdf.js)
  r.use(sealPages(deps));
  // Before supervisionPages: its '/supervision/:table.csv' would take '/supervision/compliance…' otherwise.
  r.use(compliancePages(deps));
  r.use(auditPages(deps));
  r.use(trustListPages(deps)); // I2: recognised platforms, four eyes
  r.use(supervisionPages(deps));
  r.use(videoPages(deps));
  r.use(adminPages(deps));
  // An unknown page (not the API's paths, which answer JSON) is an HTML 404.
  r.use((req, res, next) => {
    if (req.method !== 'GET' || /^\/(api|pki)\//.test(req.path) || !req.accepts('html')) return next();
    renderPage(req, res, 'error', { title: '404', errorPage: true, status: 404, alert: { zh: '页面不存在', en: 'Page not found' } }, 404);
  });
  r.use(pageErrors);
  const handler = ((req: Request, res: Response, next: NextFunction) => r(req, res, next)) as PageRouter;
  handler.pageRouter = r;
  return handler;
}
