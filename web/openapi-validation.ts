// P2: every request to a described operation is checked against web/openapi.yaml by express-openapi-validator
// (ajv under it), so the description and the checks are one thing and cannot drift apart. Path parameters,
// query parameters, described headers and the JSON body are checked before the route runs; a body is never
// coerced (`has_superior: "yes"` is refused, not read as false), query strings are (they are text on the
// wire). Headers that are not described pass untouched; undescribed query parameters are refused.
//
// Multipart uploads are streamed to disk by web/upload.ts (never buffered), so the library's own uploader
// (multer) is off: such a request is checked once its text fields are read, with the staged files standing
// in as present (`validateMultipart`), before the use-case sees anything.
//
// The library's refusals are turned into the project's bilingual error, naming each field.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { ApiError, invalid, notFound, type FieldError } from './errors';
import { openapiPath } from './routes/openapi';

const TYPE_ZH: Record<string, string> = {
  boolean: '布尔值（true 或 false）',
  integer: '整数',
  number: '数字',
  string: '字符串',
  object: '对象（键值）',
  array: '数组',
  null: 'null',
};
const TYPE_EN: Record<string, string> = { boolean: 'a boolean (true or false)', integer: 'an integer', number: 'a number', string: 'a string', object: 'an object (keys and values)', array: 'an array', null: 'null' };

interface LibraryError {
  status: number;
  message?: string;
  errors?: Array<{ path: string; message: string; errorCode?: string }>;
}
const isLibraryError = (e: unknown): e is LibraryError => typeof e === 'object' && e !== null && typeof (e as LibraryError).status === 'number' && 'errors' in e;

/** `/body/holder/uscc` → `holder.uscc`; `/query/limit` → `limit`; `/headers/idempotency-key` → `idempotency-key`. */
export function fieldName(libraryPath: string): string {
  const parts = libraryPath.replace(/^\.?\/?/, '').split(/[/.]/).filter(Boolean);
  if (['body', 'query', 'headers', 'params', 'path', 'cookies'].includes(parts[0] ?? '')) parts.shift();
  return parts.join('.') || 'body';
}

/** A field's label, `x-label: { zh, en }` beside its schema in web/openapi.yaml (else its machine name). */
export interface Label {
  zh: string;
  en: string;
}
type Schema = { properties?: Record<string, Schema>; items?: Schema; 'x-label'?: Label };
interface Operation {
  parameters?: Array<{ name: string; in: string; 'x-label'?: Label; schema?: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

/** Finds the label of the field at a library path in the (dereferenced) operation the request matched. */
export function labelOf(op: Operation | undefined, libraryPath: string, contentType = ''): Label | undefined {
  if (!op) return undefined;
  const parts = libraryPath.replace(/^\//, '').split('/').filter(Boolean);
  const where = parts.shift();
  if (where === 'body') {
    const content = op.requestBody?.content ?? {};
    const media = Object.keys(content).find((k) => contentType.startsWith(k)) ?? Object.keys(content)[0];
    let schema = media ? content[media]?.schema : undefined;
    for (const p of parts) schema = /^\d+$/.test(p) ? schema?.items : schema?.properties?.[p];
    return schema?.['x-label'];
  }
  const param = op.parameters?.find((x) => x.name.toLowerCase() === (parts[0] ?? '').toLowerCase() && (where === 'headers' ? x.in === 'header' : x.in === where));
  return param?.['x-label'] ?? param?.schema?.['x-label'];
}

/** One ajv message (English) as the project's field error, in Chinese and English, led by the field's label. */
export function fieldError(libraryPath: string, message: string, errorCode = '', label?: Label, op?: Operation): FieldError {
  // A header is named as described (`Idempotency-Key`), not as node lower-cases it.
  const header = /^\/headers\/(.+)$/.exec(libraryPath)?.[1];
  const field = (header && op?.parameters?.find((x) => x.in === 'header' && x.name.toLowerCase() === header.toLowerCase())?.name) || fieldName(libraryPath);
  const keyword = errorCode.replace(/\.openapi\.validation$/, '');
  let zh: string;
  let en = message;
  let m: RegExpMatchArray | null;
  if ((m = /^must be ([a-z,]+)$/.exec(message)) && keyword === 'type') {
    const types = m[1]!.split(',');
    zh = `应为${types.map((t) => TYPE_ZH[t] ?? t).join('或')}`;
    en = `must be ${types.map((t) => TYPE_EN[t] ?? t).join(' or ')}`;
  } else if (/^must have required property/.test(message)) {
    zh = '必须填写';
    en = 'is required';
  } else if ((m = /^must be equal to one of the allowed values: (.*)$/.exec(message))) {
    zh = `应为以下值之一：${m[1]}`;
  } else if (/^must be equal to constant/.test(message)) {
    zh = '取值不允许';
  } else if ((m = /^must match format "(.*)"$/.exec(message))) {
    zh = `格式应为 ${m[1]}`;
  } else if (/^must match pattern/.test(message)) {
    zh = '格式不正确';
  } else if ((m = /^must NOT have (more|fewer) than (\d+) (characters|items|properties)$/.exec(message))) {
    const unit = m[3] === 'characters' ? '个字符' : m[3] === 'items' ? '项' : '个字段';
    zh = `${m[1] === 'more' ? '不得多于' : '不得少于'} ${m[2]} ${unit}`;
  } else if ((m = /^must be (>=|<=|>|<) (\S+)$/.exec(message))) {
    zh = `应${{ '>=': '不小于', '<=': '不大于', '>': '大于', '<': '小于' }[m[1]!]} ${m[2]}`;
  } else if (/^must match (a schema in anyOf|exactly one schema in oneOf)$/.test(message)) {
    zh = '不是允许的取值';
    en = 'is not an allowed value';
  } else if (/additional properties|unevaluated properties/.test(message)) {
    zh = '不是接口说明中的字段';
    en = 'is not a field of this operation';
  } else if (/^Unknown query parameter/.test(message)) {
    zh = '不是接口说明中的查询参数';
    en = 'is not a query parameter of this operation';
  } else {
    zh = `不符合接口说明（${message}）`;
  }
  return { field, message_zh: `${label?.zh ?? field}：${zh}`, message_en: `${label?.en ?? field}: ${en}` };
}

/** The library's refusal as the project's bilingual ApiError (or null: not the library's). */
export function toApiError(err: unknown, req?: Request): ApiError | null {
  if (!isLibraryError(err)) return null;
  if (err.status === 400) {
    // An identifier out of its format names nothing that exists: 404, as the API always answered it.
    if ((err.errors ?? []).some((e) => e.path.startsWith('/params/'))) return notFound('Resource', '资源');
    const seen = new Set<string>();
    // ajv's summaries of an if/then or a combination ("must match \"then\" schema") repeat the errors that follow.
    const summaries = /^(if|oneOf|anyOf|allOf)\./;
    const errors = err.errors ?? [];
    // A value that matches no branch of an anyOf/oneOf is one error: "is not an allowed value" (not one per branch).
    // When every branch is an enumeration, the one error lists all their values.
    const combined = new Set(errors.filter((e) => /^(oneOf|anyOf)\./.test(e.errorCode ?? '')).map((e) => e.path));
    const merged = (path: string, e: (typeof errors)[number]) => {
      const branches = errors.filter((x) => x.path === path && x !== e);
      const values = branches.map((x) => /^must be equal to one of the allowed values: (.*)$/.exec(x.message)?.[1]);
      return values.length && values.every(Boolean) ? { ...e, errorCode: 'enum.openapi.validation', message: `must be equal to one of the allowed values: ${values.join(', ')}` } : e;
    };
    const fields = errors
      .filter((e) => !combined.has(e.path) || /^(oneOf|anyOf)\./.test(e.errorCode ?? ''))
      .map((e) => (combined.has(e.path) ? merged(e.path, e) : e))
      .filter((e, _i, all) => !(summaries.test(e.errorCode ?? '') && !combined.has(e.path) && all.some((x) => !summaries.test(x.errorCode ?? ''))))
      .map((e) => fieldError(e.path, e.message, e.errorCode, labelOf(operationOf(req), e.path, req?.headers['content-type']), operationOf(req)))
      .filter((f) => !seen.has(f.message_en) && seen.add(f.message_en));
    return invalid(fields.length ? fields : [{ field: 'body', message_zh: '请求不符合接口说明', message_en: 'The request does not match the API description' }]);
  }
  if (err.status === 415) {
    return new ApiError(415, 'unsupported_media_type', '不支持的请求内容类型', `Unsupported content type: ${err.message ?? ''}`.trim());
  }
  return null; // 404 / 405 of undescribed things are left to the routes (ignoreUndocumented)
}

const operationOf = (req?: Request) => (req as (Request & { openapi?: { schema?: Operation } }) | undefined)?.openapi?.schema;
const isMultipart = (req: Request) => /^multipart\/form-data/i.test(req.headers['content-type'] ?? '');
const acceptsMultipart = (req: Request) =>
  Boolean((req as Request & { openapi?: { schema?: { requestBody?: { content?: Record<string, unknown> } } } }).openapi?.schema?.requestBody?.content?.['multipart/form-data']);

const chains: { json?: RequestHandler[]; form?: RequestHandler[] } = {};
/** `form`: a multipart form's fields are text on the wire, like query strings, so they are read by their schema type. */
function validatorChain(kind: 'json' | 'form'): RequestHandler[] {
  return (chains[kind] ??= OpenApiValidator.middleware({
    apiSpec: openapiPath(),
    // every field named at once, as the domain's checks do
    validateRequests: { allowUnknownQueryParameters: false, allErrors: true, ...(kind === 'form' ? { coerceTypes: true } : {}) },
    validateResponses: false,
    validateSecurity: false, // authentication and roles are web/auth.ts and the use-cases'
    ignoreUndocumented: true, // the browser pages are not part of the JSON API
    fileUploader: false, // uploads stream to disk (web/upload.ts); multer would be a second reader
    $refParser: { mode: 'dereference' },
  }) as unknown as RequestHandler[]);
}

/**
 * Runs the library on the request and then puts the request back as it came: the library coerces query
 * strings to numbers, fills in schema defaults and replaces the path parameters, but the routes and
 * use-cases read the request as sent (the validator judges; it does not rewrite).
 */
async function runChain(req: Request, res: Response, kind: 'json' | 'form' = 'json'): Promise<void> {
  // express 5 parses the URL in a getter of the prototype: the library gets a copy as the request's own
  // (configurable) property, removed afterwards so that the getter answers again.
  const ownQuery = Object.getOwnPropertyDescriptor(req, 'query');
  Object.defineProperty(req, 'query', { value: structuredClone(req.query), writable: true, configurable: true, enumerable: true });
  const { body, params } = req;
  req.body = body === undefined ? undefined : structuredClone(body);
  try {
    await runLibrary(req, res, kind);
  } finally {
    delete (req as { query?: unknown }).query;
    if (ownQuery) Object.defineProperty(req, 'query', ownQuery);
    req.body = body;
    req.params = params;
  }
}

function runLibrary(req: Request, res: Response, kind: 'json' | 'form'): Promise<void> {
  const handlers = validatorChain(kind);
  return new Promise<void>((resolve, reject) => {
    let i = 0;
    const step = (err?: unknown): void => {
      if (err) return reject(err);
      const h = handlers[i++];
      if (!h) return resolve();
      try {
        void Promise.resolve(h(req, res, step as NextFunction)).catch(reject);
      } catch (e) {
        reject(e);
      }
    };
    step();
  });
}

const CHECKED = Symbol('openapiChecked');

/** Checks a described request (not a multipart one: see validateMultipart) before its route. */
export function validateRequests(): RequestHandler {
  return (req, res, next) => {
    const r = req as Request & { [CHECKED]?: boolean };
    if (r[CHECKED] || isMultipart(req)) return next();
    r[CHECKED] = true;
    runChain(req, res).then(
      () => next(),
      (err: unknown) => {
        // An upload route sent something else: the route answers that in its own words (multipart_required).
        if (isLibraryError(err) && err.status === 415 && acceptsMultipart(req)) return next();
        // A method or path the description does not have (405, 404) is the router's to answer, as before.
        if (isLibraryError(err) && err.status !== 400 && err.status !== 415) return next();
        next(toApiError(err, req) ?? err);
      },
    );
  };
}

/**
 * Checks a multipart request once web/upload.ts has read it: the text fields as the body, each staged file's
 * field as present (the use-case judges the file itself). Undescribed requests (the page forms) pass.
 */
export async function validateMultipart(req: Request, fields: Record<string, string>, fileFields: string[]): Promise<void> {
  if (!req.res) return;
  const body: Record<string, string> = { ...fields };
  for (const f of fileFields) body[f] = '';
  const saved = req.body as unknown;
  req.body = body;
  try {
    await runChain(req, req.res, 'form');
  } catch (err) {
    // A missing field of a form is left to the use-case, which checks the caller's scope first (an upload
    // out of scope is 403 whatever it holds) and names every missing field and file at once.
    if (isLibraryError(err) && err.status === 400 && (err.errors ?? []).every((e) => e.errorCode === 'required.openapi.validation')) return;
    if (isLibraryError(err) && err.status !== 400 && err.status !== 415) return;
    throw toApiError(err, req) ?? err;
  } finally {
    req.body = saved;
  }
}
