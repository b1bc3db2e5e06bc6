// Every refusal is JSON naming the field, in Chinese and English; no stack trace leaves the server.
import type { ErrorRequestHandler } from 'express';
import { DomainError, ValidationErrors } from '../domain/errors';
import { ApiError } from '../domain/refusals';
import { SERVICE_NAMES, unreachableService } from '../infra/outage';
import { logger } from '../infra/observability/logger';

export { ApiError, forbidden, invalid, notFound, unauthenticated, type FieldError } from '../domain/refusals';

export const OUTAGE_RETRY_AFTER_SECONDS = 5;

export const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  if (err instanceof ApiError) {
    res.status(err.status).json({ error: { code: err.code, message_zh: err.messageZh, message_en: err.messageEn, fields: err.fields } });
    return;
  }
  // One error type: every refusal, the infrastructure's too (a corrupted or missing file, tampered personal data,
  // an upload too large), is a DomainError with its bilingual message and HTTP status.
  if (err instanceof DomainError) {
    const list = err instanceof ValidationErrors ? err.errors : [err];
    const fields = list.filter((e) => e.field).map((e) => ({ field: e.field!, message_zh: e.messageZh, message_en: e.messageEn }));
    if (err.httpStatus === 503) res.set('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS)); // "try again shortly"
    res.status(err.httpStatus).json({ error: { code: err.code, message_zh: err.messageZh, message_en: err.messageEn, fields, details: err.details } });
    return;
  }
  if (err?.type === 'entity.too.large') {
    res.status(413).json({ error: { code: 'too_large', message_zh: '请求内容过大', message_en: 'Request body too large', fields: [] } });
    return;
  }
  if (err?.type === 'entity.parse.failed') {
    res.status(400).json({ error: { code: 'malformed_json', message_zh: '请求不是有效的 JSON', message_en: 'Request body is not valid JSON', fields: [] } });
    return;
  }
  const service = unreachableService(err);
  if (service) {
    // An outage, not a bug: the client may retry (with the same Idempotency-Key) once the service is back.
    logger.warn({ service }, `${service} unreachable: ${(err as Error)?.message?.split('\n')[0]}`);
    const name = SERVICE_NAMES[service];
    res.status(503).set('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS)).json({
      error: { code: 'service_unavailable', message_zh: `${name.zh}暂时无法访问，请稍后重试`, message_en: `${name.en} is unreachable; please try again shortly`, fields: [], details: { service } },
    });
    return;
  }
  logger.error({ err }, 'request failed');
  res.status(500).json({ error: { code: 'internal', message_zh: '服务器内部错误', message_en: 'Internal server error', fields: [] } });
};
