// The public verification page (U2, P2): anyone, without a login, uploads a signed PDF, or a file and its .p7s,
// and reads the report in plain words with the imprint of each seal that signed. Same use-case and rate limit
// as POST /api/verifications. The form has no session: its CSRF token is the login form's double submit.
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { MAX_SIGNATURE_BYTES, verifyDocumentForPerson, type SignatureReport } from '../../usecases/verification';
import { SIGN_MAX_BYTES } from '../../usecases/seal-signing';
import { sameSecret } from '../../usecases/web-accounts';
import { ApiError } from '../errors';
import { rateLimit } from '../rate-limit';
import { readMultipart } from '../upload';
import type { Db } from '../../infra/db';
import { VERIFY_RATE_PER_MINUTE } from '../routes/verification';
import { refusalOf } from './forms';
import { renderPage } from './render';
import { cookiesOf, LOGIN_CSRF_COOKIE, loginCsrfToken } from './session';
import { publicPage } from './guards';

const FORM_EXPIRED = new ApiError(403, 'csrf', '表单已过期，请刷新页面后重试', 'The form has expired; reload the page and try again');

const INDICATIONS: Record<SignatureReport['indication'], { zh: string; en: string; tone: string }> = {
  'TOTAL-PASSED': { zh: '验证通过', en: 'Valid', tone: 'ok' },
  'TOTAL-FAILED': { zh: '验证失败', en: 'Invalid', tone: 'bad' },
  INDETERMINATE: { zh: '无法确定', en: 'Indeterminate', tone: 'warn' },
};

const STATUSES: Record<SignatureReport['certificate_status']['now'], { zh: string; en: string }> = {
  good: { zh: '有效', en: 'good' },
  revoked: { zh: '已吊销', en: 'revoked' },
  on_hold: { zh: '已挂起（印章暂停使用）', en: 'on hold (seal suspended)' },
  unknown: { zh: '未知', en: 'unknown' },
};

/** Reads the upload (file, signature, _csrf) and checks the double-submit token; marked for the route test. */
function verifyForm(): RequestHandler {
  const handler: RequestHandler = async (req: Request, _res: Response, next: NextFunction) => {
    try {
      const { fields, files } = await readMultipart(req, {
        maxBytes: SIGN_MAX_BYTES,
        limits: { files: 2, fields: 5, fieldSize: 1024 },
        accept: (name) => name === 'file' || name === 'signature',
        notMultipart: new ApiError(400, 'multipart_required', '表单格式有误', 'Malformed form'),
      });
      if (!sameSecret(fields._csrf, cookiesOf(req)[LOGIN_CSRF_COOKIE])) return next(FORM_EXPIRED);
      // An empty file input sends a part with no name and no bytes: nothing was chosen.
      req.form = { fields, files: files.filter((f) => f.filename || f.size > 0 || f.truncated) };
      next();
    } catch (e) {
      next(e);
    }
  };
  return Object.assign(handler, { csrf: true as const });
}

export function verificationPages(deps: { db: Db }): Router {
  const r = Router();
  const show = (req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200) =>
    renderPage(req, res, 'verify', { title: req.lang === 'en' ? 'Verify a sealed document' : '验证电子签章文件', verifyCsrf: loginCsrfToken(req, res), ...extra }, status);

  r.get('/verify', publicPage(), (req, res) => show(req, res));
  r.post('/verify', publicPage(), rateLimit({ limit: VERIFY_RATE_PER_MINUTE, windowMs: 60_000 }), verifyForm(), async (req, res) => {
    const files = req.form!.files;
    const signature = files.find((f) => f.field === 'signature') ?? null;
    try {
      const { report, imprints } = await verifyDocumentForPerson(deps.db, {
        file: files.find((f) => f.field === 'file') ?? null,
        signature: signature && signature.size > MAX_SIGNATURE_BYTES ? { ...signature, truncated: true } : signature,
      });
      res.set('cache-control', 'no-store');
      show(req, res, {
        report: {
          ...report,
          signatures: report.signatures.map((s) => ({ ...s, verdict: INDICATIONS[s.indication], statusNow: STATUSES[s.certificate_status.now], imprint: s.seal ? imprints[s.seal.id] : undefined })),
        },
      });
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      show(req, res, { errors: refusal.fields, alert: refusal.alert && !Object.keys(refusal.fields).length ? refusal.alert : null }, refusal.status);
    }
  });
  return r;
}
