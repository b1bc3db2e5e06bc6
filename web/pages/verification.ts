// The public verification page (U2, P2): anyone, without a login, uploads a signed PDF, or a file and its .p7s,
// and reads the report in plain words with the imprint of each seal that signed, then may download the report
// as a PDF signed by the platform (POST /verify/report.pdf: the report kept for that, found by the form's
// token; usecases/verification-report.ts). Same use-cases and rate limit as POST /api/verifications. The forms
// have no session: their CSRF token is the login form's double submit.
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { CERTIFICATE_STATUS_LABELS, INDICATION_LABELS } from '../../domain/signature-validation';
import { MAX_SIGNATURE_BYTES, verifyDocumentForPerson, type SignatureReport } from '../../usecases/verification';
import { SIGN_MAX_BYTES } from '../../usecases/seal-signing';
import { sameSecret } from '../../usecases/web-accounts';
import { ApiError } from '../errors';
import { rateLimit } from '../rate-limit';
import { readMultipart } from '../upload';
import type { Deps } from '../../usecases/deps';
import { downloadSignedReport, keepReportForDownload, REPORT_KEPT_MINUTES } from '../../usecases/verification-report';
import { VERIFY_RATE_PER_MINUTE } from '../routes/verification';
import { refusalOf } from './forms';
import { renderPage } from './render';
import { cookiesOf, LOGIN_CSRF_COOKIE, loginCsrfToken } from './session';
import { publicPage } from './guards';

const FORM_EXPIRED = new ApiError(403, 'csrf', '表单已过期，请刷新页面后重试', 'The form has expired; reload the page and try again');

const TONES: Record<SignatureReport['indication'], string> = { 'TOTAL-PASSED': 'ok', 'TOTAL-FAILED': 'bad', INDETERMINATE: 'warn' };

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

/** The download form (urlencoded: _csrf and the report's token) with the double-submit check; marked for the route test. */
function downloadForm(): RequestHandler {
  const urlencoded = express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 4 });
  const handler: RequestHandler = (req, res, next) =>
    urlencoded(req, res, (e?: unknown) => {
      if (e) return next(e);
      if (!sameSecret((req.body as Record<string, unknown> | undefined)?._csrf, cookiesOf(req)[LOGIN_CSRF_COOKIE])) return next(FORM_EXPIRED);
      next();
    });
  return Object.assign(handler, { csrf: true as const });
}

export function verificationPages(deps: Pick<Deps, 'db' | 'temporal' | 'config'>): Router {
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
        streamPdfAboveBytes: deps.config.pki.padesStreamAboveBytes,
      });
      const reportToken = await keepReportForDownload(deps.db, report, signature);
      res.set('cache-control', 'no-store');
      show(req, res, {
        reportToken,
        reportKeptMinutes: REPORT_KEPT_MINUTES,
        report: {
          ...report,
          signatures: report.signatures.map((s) => ({ ...s, verdict: { ...INDICATION_LABELS[s.indication], tone: TONES[s.indication] }, statusNow: CERTIFICATE_STATUS_LABELS[s.certificate_status.now], imprint: s.seal ? imprints[s.seal.id] : undefined })),
        },
      });
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      show(req, res, { errors: refusal.fields, alert: refusal.alert && !Object.keys(refusal.fields).length ? refusal.alert : null }, refusal.status);
    }
  });
  // The report shown above, as a PDF signed by the platform; a refusal (expired, 503) is shown on the page.
  r.post('/verify/report.pdf', publicPage(), rateLimit({ limit: VERIFY_RATE_PER_MINUTE, windowMs: 60_000 }), downloadForm(), async (req, res) => {
    try {
      const { pdf, fileName } = await downloadSignedReport(deps, (req.body as Record<string, unknown>).report);
      res.set('cache-control', 'no-store').type('application/pdf').set('content-disposition', `attachment; filename="${fileName}"`).send(pdf); // ASCII: hex digits
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      if (refusal.status === 503) res.set('retry-after', '5');
      show(req, res, { alert: refusal.alert }, refusal.status);
    }
  });
  return r;
}
