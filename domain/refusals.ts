// Refusals of a request (not logged in, not allowed, not found, invalid input), bilingual with their HTTP
// status. Use-cases throw them and web/errors.ts answers them; they live here so no inner layer imports web/.
export interface FieldError {
  field: string;
  message_zh: string;
  message_en: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly messageZh: string,
    readonly messageEn: string,
    readonly fields: FieldError[] = [],
  ) {
    super(messageEn);
  }
}

export const unauthenticated = () => new ApiError(401, 'unauthenticated', '请先登录', 'Please log in');
export const forbidden = (en = 'Not allowed for your role or scope', zh = '无权访问') => new ApiError(403, 'forbidden', zh, en);
export const notFound = (what: string, whatZh: string) => new ApiError(404, 'not_found', `${whatZh}不存在`, `${what} not found`);
export const invalid = (fields: FieldError[]) =>
  new ApiError(400, 'invalid_input', '输入有误：' + fields.map((f) => f.message_zh).join('；'), 'Invalid input: ' + fields.map((f) => f.message_en).join('; '), fields);
