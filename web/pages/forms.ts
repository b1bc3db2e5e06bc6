// Forms of the pages: every POST is parsed here (urlencoded, or multipart with files under a hard size
// limit), its CSRF token checked before anything else happens, and refusals turned into messages beside
// their fields or at the top of the page. No stack trace ever reaches a page.
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { DomainError, ValidationErrors } from '../../domain/errors';
import { MAX_UPLOAD_BYTES } from '../../usecases/applications';
import type { StagedFile } from '../../infra/blobs';
import { ApiError } from '../errors';
import { readMultipart } from '../upload';
import { csrfMatches, FLASH_COOKIE, setCookie, cookiesOf, clearCookie } from './session';

/** A file of the form, streamed to a temporary file (never whole in memory), removed after the response. */
export type UploadedFile = StagedFile;

export interface FormInput {
  fields: Record<string, string>;
  files: UploadedFile[];
}

declare module 'express-serve-static-core' {
  interface Request {
    form?: FormInput;
  }
}

const MAX_FILES = 12;
const urlencoded = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 100 });

async function readForm(req: Request): Promise<FormInput> {
  const { fields, files } = await readMultipart(req, {
    maxBytes: MAX_UPLOAD_BYTES,
    limits: { files: MAX_FILES, fields: 60, fieldSize: 8192 },
    notMultipart: new ApiError(400, 'multipart_required', '表单格式有误', 'Malformed form'),
  });
  // An empty file input sends a part with no name and no bytes: nothing was chosen.
  return { fields, files: files.filter((f) => f.filename || f.size > 0 || f.truncated) };
}

export const FORM_EXPIRED = new ApiError(403, 'csrf', '表单已过期或来源不明，请刷新页面后重试', 'The form has expired or did not come from this site; reload the page and try again');

/**
 * Parses the form and checks its CSRF token (`_csrf`, the session's synchronizer token). Marked `csrf`
 * so that the route test can see every page POST passes through here.
 */
export function formBody(): RequestHandler {
  const handler: RequestHandler = async (req: Request, res: Response, next: NextFunction) => {
    try {
      if (req.is('multipart/form-data')) {
        req.form = await readForm(req);
      } else {
        await new Promise<void>((resolve, reject) => urlencoded(req, res, (e?: unknown) => (e ? reject(e) : resolve())));
        const body = (req.body ?? {}) as Record<string, unknown>;
        req.form = { fields: Object.fromEntries(Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? String(v[v.length - 1]) : String(v)])), files: [] };
      }
    } catch (e) {
      return next(e);
    }
    if (!csrfMatches(req, req.form.fields._csrf)) return next(FORM_EXPIRED);
    next();
  };
  return Object.assign(handler, { csrf: true as const });
}

export interface Refusal {
  status: number;
  /** Messages beside their fields, by field name. */
  fields: Record<string, { zh: string; en: string }>;
  /** The refusal as a whole (shown at the top), when it is not about one field. */
  alert: { zh: string; en: string } | null;
}

/** A use-case's refusal as page messages; anything else is not a refusal (rethrown: the page shows a 500). */
export function refusalOf(e: unknown, fieldMap: Record<string, string> = {}): Refusal | null {
  const fields: Refusal['fields'] = {};
  const put = (field: string | undefined, zh: string, en: string) => {
    if (!field) return false;
    const name = fieldMap[field] ?? field;
    if (!fields[name]) fields[name] = { zh, en };
    return true;
  };
  // An ApiError is a DomainError too; its own field list comes first.
  if (e instanceof ApiError) {
    for (const f of e.fields) put(f.field, f.message_zh, f.message_en);
    return { status: e.status, fields, alert: { zh: e.messageZh, en: e.messageEn } };
  }
  if (e instanceof DomainError) {
    const list = e instanceof ValidationErrors ? e.errors : [e];
    const unplaced = list.filter((x) => !put(x.field, x.messageZh, x.messageEn));
    const alert = unplaced.length
      ? { zh: unplaced.map((x) => x.messageZh).join('；'), en: unplaced.map((x) => x.messageEn).join('; ') }
      : Object.keys(fields).length > 0
        ? { zh: '请更正标出的字段', en: 'Please correct the marked fields' }
        : null;
    return { status: e.httpStatus, fields, alert };
  }
  return null;
}

/** A one-time message for the next page (a key of the dictionary's `flash.*`). */
export function flash(req: Request, res: Response, key: string) {
  setCookie(req, res, FLASH_COOKIE, key, { maxAgeSeconds: 60 });
}

/** Takes the pending flash message, if any, for this page. */
export function takeFlash(req: Request, res: Response) {
  const key = cookiesOf(req)[FLASH_COOKIE];
  if (key && /^[a-zA-Z_.]{1,60}$/.test(key)) {
    res.locals.flash = key;
    clearCookie(req, res, FLASH_COOKIE);
  }
}

/** Where to go back to: a path of this site only. */
export const safeNext = (v: unknown, fallback = '/') => (typeof v === 'string' && /^\/(?![/\\])[\w\-./?=&%]*$/.test(v) ? v : fallback);

export const formKey = () => randomUUID();
