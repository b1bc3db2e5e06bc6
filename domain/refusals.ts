// Refusals of a request (not logged in, not allowed, not found, invalid input), bilingual with their HTTP
// status. Use-cases throw them and web/errors.ts answers them; they live here so no inner layer imports web/.
import { DomainError } from './errors';

export interface FieldError {
  field: string;
  message_zh: string;
  message_en: string;
}

/**
 * A refusal is a {@link DomainError} (one error type: bilingual, with its HTTP status, and non-retryable if it
 * ever failed an activity) that may name several fields, in the API's `{ field, message_zh, message_en }`
 * form. `status` is its `httpStatus`, under the name routes and pages have always read.
 */
export class ApiError extends DomainError {
  readonly status: number;
  readonly fields: FieldError[];

  constructor(status: number, code: string, messageZh: string, messageEn: string, fields: FieldError[] = []) {
    super({ code, messageZh, messageEn, httpStatus: status });
    this.name = 'ApiError';
    this.status = status;
    this.fields = fields;
  }
}

export const unauthenticated = () => new ApiError(401, 'unauthenticated', '请先登录', 'Please log in');
export const forbidden = (en = 'Not allowed for your role or scope', zh = '无权访问') => new ApiError(403, 'forbidden', zh, en);
export const notFound = (what: string, whatZh: string) => new ApiError(404, 'not_found', `${whatZh}不存在`, `${what} not found`);
export const invalid = (fields: FieldError[]) =>
  new ApiError(400, 'invalid_input', '输入有误：' + fields.map((f) => f.message_zh).join('；'), 'Invalid input: ' + fields.map((f) => f.message_en).join('; '), fields);
