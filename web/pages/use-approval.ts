// The holder's approval queue (三(四) 使用流程: list and decide) and the keeper's signing page (U1): upload a
// PDF, see its pages (pdf.js, served from the pinned pdfjs-dist as static assets), click where the imprint
// goes, give the keeper's ID number and the protection password, download the signed PDF. The same
// use-cases as the JSON API (decideUseRequest, signDocument).
import path from 'node:path';
import { existsSync } from 'node:fs';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Deps } from '../../usecases/deps';
import { createUseRequest, decideUseRequest, listUseApprovers, listUseRequests, sealsNeedingApproval } from '../../usecases/use-approval';
import { SIGN_MAX_BYTES, signDocument, type SignedResult } from '../../usecases/seal-signing';
import { sendSigned } from '../signed-file';
import { sealPage } from '../../usecases/web-queries';
import { DOCUMENT_TYPES } from '../../domain/signing';
import { fieldRef, invalidField } from '../../domain/errors';
import { readUpload } from '../upload';
import { flash, FORM_EXPIRED, formBody, refusalOf } from './forms';
import { page } from './guards';
import { formatTime, sealLabel } from './labels';
import { renderPage } from './render';
import { csrfMatches, type Lang } from './session';

/** node_modules/pdfjs-dist (pinned in package.json): its browser build, CMaps and standard fonts. */
function pdfjsDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', 'pdfjs-dist');
    if (existsSync(path.join(candidate, 'build', 'pdf.min.mjs'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`node_modules/pdfjs-dist not found above ${__dirname}`);
  }
}

/**
 * A form with one file (streamed to disk and hashed, at most `maxBytes`), its fields and the session's CSRF
 * token: the signing form (a PDF) and the use request form (any document); marked for the route test.
 */
function oneFileForm(maxBytes: number): RequestHandler {
  const handler: RequestHandler = async (req: Request, _res: Response, next: NextFunction) => {
    try {
      const { fields, file } = await readUpload(req, { maxBytes, fileField: 'file' });
      if (!csrfMatches(req, fields._csrf)) return next(FORM_EXPIRED);
      req.form = { fields, files: file && (file.filename || file.size > 0 || file.truncated) ? [file] : [] };
      next();
    } catch (e) {
      next(e);
    }
  };
  return Object.assign(handler, { csrf: true as const });
}

export function useApprovalPages(deps: Deps): Router {
  const r = Router();
  const pdfjs = pdfjsDir();
  for (const sub of ['build', 'cmaps', 'standard_fonts']) r.use(`/static/pdfjs/${sub}`, express.static(path.join(pdfjs, sub), { index: false, maxAge: '1d' }));

  /** The approval queue, with the form to request a use of a seal that needs approval. */
  async function showQueue(req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200) {
    const lang: Lang = req.lang ?? 'zh';
    const requests = await listUseRequests(deps, req.actor!);
    const requestable = await sealsNeedingApproval(deps, req.actor!);
    renderPage(req, res, 'use-requests', {
      title: lang === 'zh' ? '用印审批' : 'Use approvals',
      requests: requests.map((q) => ({
        ...q,
        seal: `${sealLabel(q.seal_kind, null, lang)} ${q.seal_code ?? ''}`,
        type: lang === 'zh' ? q.document_type_zh : DOCUMENT_TYPES[q.document_type as keyof typeof DOCUMENT_TYPES]?.en,
        statusText: lang === 'zh' ? q.status_zh : q.status,
        due: formatTime(q.due_at),
        created: formatTime(q.created_at),
        sha: `${q.document_sha256.slice(0, 16)}…`,
      })),
      requestable: requestable.map((x) => ({ value: x.id, label: `${sealLabel(x.kind, x.number, lang)} ${x.seal_code ?? ''} · ${x.text}` })),
      documentTypes: Object.entries(DOCUMENT_TYPES).map(([value, l]) => ({ value, label: lang === 'zh' ? l.zh : l.en })),
      ...extra,
    }, status);
  }

  r.get('/use-requests', page('holder'), (req, res) => showQueue(req, res));

  // 三(四) 使用流程: a staff member asks to use a seal on one document; the document is hashed as it streams
  // in and only its name and SHA-256 are kept (the signature later must be over exactly this file).
  r.post('/use-requests', page('holder'), oneFileForm(SIGN_MAX_BYTES), async (req, res) => {
    const { fields, files } = req.form!;
    const file = files[0];
    try {
      if (file?.truncated) throw invalidField(fieldRef('file', '文件', 'Document'), `超过 ${SIGN_MAX_BYTES / 1024 / 1024} MiB`, `exceeds ${SIGN_MAX_BYTES / 1024 / 1024} MiB`, { code: 'UPLOAD_TOO_LARGE', httpStatus: 413 });
      await createUseRequest(deps, req.actor!, {
        seal_id: fields.seal_id,
        purpose: fields.purpose,
        document_type: fields.document_type,
        document_name: file?.filename ?? '',
        document_sha256: file && !file.truncated ? file.sha256 : '',
      });
      flash(req, res, 'useRequested');
      res.redirect(303, '/use-requests');
    } catch (e) {
      const refusal = refusalOf(e, { document_name: 'file', document_sha256: 'file' });
      if (!refusal) throw e;
      const { _csrf: _ignored, ...values } = fields;
      await showQueue(req, res, { errors: refusal.fields, alert: refusal.alert, values }, refusal.status);
    }
  });

  r.post('/use-requests/:id/decision', page('holder'), formBody(), async (req, res) => {
    const f = req.form!.fields;
    try {
      await decideUseRequest(deps, req.actor!, String(req.params.id), { decision: f.decision, reason: f.reason });
      flash(req, res, f.decision === 'approve' ? 'useApproved' : 'useRejected');
      res.redirect(303, '/use-requests');
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      await showQueue(req, res, { alert: refusal.alert, errors: refusal.fields }, refusal.status);
    }
  });

  async function showSign(req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200) {
    const lang: Lang = req.lang ?? 'zh';
    const sealId = String(req.params.id);
    const approvers = await listUseApprovers(deps, req.actor!, sealId); // holder's own seal only
    const { seal } = await sealPage(deps.db, req.actor!, sealId);
    const approved = approvers.requires_approval ? await listUseRequests(deps, req.actor!, { seal_id: sealId, status: 'approved' }) : [];
    renderPage(req, res, 'sign', {
      title: lang === 'zh' ? '签章' : 'Sign a document',
      sealId,
      label: sealLabel(seal.kind, seal.number, lang),
      holder: seal.holder_name,
      imprintMm: seal.kind === 'personal_name' ? 20 : 42,
      requiresApproval: approvers.requires_approval,
      approved: approved.map((q) => ({ value: q.id, label: `${q.document_name} · ${q.purpose}（${formatTime(q.due_at)}）` })),
      documentTypes: Object.entries(DOCUMENT_TYPES).map(([value, l]) => ({ value, label: lang === 'zh' ? l.zh : l.en })),
      ...extra,
    }, status);
  }

  r.get('/seals/:id/sign', page('holder'), (req, res) => showSign(req, res));
  r.post('/seals/:id/sign', page('holder'), oneFileForm(SIGN_MAX_BYTES), async (req, res) => {
    const { fields, files } = req.form!;
    const { _csrf: _ignored, ...values } = fields;
    let signed: SignedResult;
    try {
      // The 骑缝章 checkbox sends "on" when ticked.
      const crossPage = fields.cross_page === 'on' ? 'true' : fields.cross_page;
      signed = await signDocument(deps, req.actor!, String(req.params.id), { fields: { ...fields, cross_page: crossPage, format: 'pades' }, file: files[0] ?? null, channel: 'web' });
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      // Everything typed comes back except the password and the file (a browser cannot be given a file again).
      delete values.password;
      await showSign(req, res, { errors: refusal.fields, alert: refusal.alert, values }, refusal.status);
      return;
    }
    await sendSigned(res, 200, signed);
  });
  return r;
}
