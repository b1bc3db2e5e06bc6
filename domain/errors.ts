/**
 * Domain errors. Pure TypeScript: no I/O, no Node built-ins (also runs inside Temporal workflow sandboxes).
 *
 * Every error carries a stable machine `code`, a bilingual message (`messageZh`, `messageEn`) and the HTTP
 * status a web route should answer with. Validation errors also name the offending field: `field` is the
 * machine path (e.g. `holder.uscc`), `fieldZh` / `fieldEn` its human label, and both messages start with
 * that label, so a form can show "统一社会信用代码：校验码错误" next to the right input.
 *
 * An activity that fails with a DomainError is not retried (activities/failure-interceptor.ts makes it a
 * non-retryable ApplicationFailure of type `code`): the same input meets the same rule on every attempt. An
 * infrastructure refusal that an operator can repair while the workflow waits (a stored file restored from a
 * backup) says `retryable: true` and keeps its activity's retry policy.
 *
 * HTTP statuses used:
 *   400  malformed or invalid input (a field fails its format / check digit / enumeration)
 *   404  a referenced thing does not exist
 *   409  conflict with existing state (e.g. a second live legal-name seal, A1)
 *   422  well-formed input that a business rule forbids (seal kind not allowed for holder kind, missing
 *        materials, …)
 */

/** 'an invoice seal', 'a state organ': an English noun phrase with its indefinite article, lower-cased. */
export function withArticle(phrase: string): string {
  const p = phrase.toLowerCase();
  return `${/^[aeiou]/.test(p) ? 'an' : 'a'} ${p}`;
}

/** A field's machine path plus its label in Chinese and English. */
export interface FieldRef {
  readonly key: string;
  readonly zh: string;
  readonly en: string;
}

export function fieldRef(key: string, zh: string, en: string): FieldRef {
  return { key, zh, en };
}

/** Labels of fields the domain validates. Callers may pass their own {@link FieldRef} for nested paths. */
export const FIELDS = {
  uscc: fieldRef('uscc', '统一社会信用代码', 'Unified social credit code'),
  residentId: fieldRef('residentId', '公民身份号码', 'Resident ID number'),
  district: fieldRef('district', '所属行政区', 'District'),
  holderKind: fieldRef('holderKind', '单位（机构）类型', 'Holder kind'),
  sealKind: fieldRef('sealKind', '印章类型', 'Seal kind'),
  personalSealRole: fieldRef('personalSealRole', '个人名章人员身份', 'Personal name seal role'),
  sealNumber: fieldRef('sealNumber', '印章编号', 'Seal number'),
  existingSeals: fieldRef('existingSeals', '已有印章', 'Existing seals'),
  language: fieldRef('language', '印章文字', 'Seal text language'),
  materials: fieldRef('materials', '申请材料', 'Application materials'),
  newlyEstablishedOrgan: fieldRef('newlyEstablishedOrgan', '新设国家机关、人民团体', 'Newly established organ'),
  preRegistered: fieldRef('preRegistered', '登记注册信息共享', 'Shared registration data'),
  instant: fieldRef('instant', '时间', 'Instant'),
  date: fieldRef('date', '日期', 'Date'),
  months: fieldRef('months', '月数', 'Number of months'),
  duration: fieldRef('duration', '期限', 'Duration'),
} as const satisfies Record<string, FieldRef>;

export type FieldKey = keyof typeof FIELDS;

/** Resolve a field given as a {@link FieldRef}, a known key, or an unknown path (labelled by the path). */
export function resolveField(field: FieldRef | string): FieldRef {
  if (typeof field !== 'string') return field;
  if (Object.prototype.hasOwnProperty.call(FIELDS, field)) return FIELDS[field as FieldKey];
  return { key: field, zh: field, en: field };
}

export interface DomainErrorInit {
  code: string;
  messageZh: string;
  messageEn: string;
  httpStatus?: number;
  field?: FieldRef | string;
  details?: Readonly<Record<string, unknown>>;
  /** An activity failing with it is retried under its policy (default: not retried). */
  retryable?: boolean;
}

export interface DomainErrorJson {
  code: string;
  field?: string;
  fieldZh?: string;
  fieldEn?: string;
  messageZh: string;
  messageEn: string;
  httpStatus: number;
  details?: Readonly<Record<string, unknown>>;
  errors?: DomainErrorJson[];
}

export class DomainError extends Error {
  readonly code: string;
  /** Machine path of the offending field, if any. */
  readonly field: string | undefined;
  readonly fieldZh: string | undefined;
  readonly fieldEn: string | undefined;
  readonly messageZh: string;
  readonly messageEn: string;
  readonly httpStatus: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /** The Temporal mapping: false (the default) makes a failing activity's failure non-retryable. */
  readonly retryable: boolean;

  constructor(init: DomainErrorInit) {
    super(init.messageEn);
    this.name = 'DomainError';
    this.code = init.code;
    const f = init.field === undefined ? undefined : resolveField(init.field);
    this.field = f?.key;
    this.fieldZh = f?.zh;
    this.fieldEn = f?.en;
    this.messageZh = init.messageZh;
    this.messageEn = init.messageEn;
    this.httpStatus = init.httpStatus ?? 400;
    this.details = init.details;
    this.retryable = init.retryable ?? false;
  }

  toJSON(): DomainErrorJson {
    const out: DomainErrorJson = {
      code: this.code,
      messageZh: this.messageZh,
      messageEn: this.messageEn,
      httpStatus: this.httpStatus,
    };
    if (this.field !== undefined) {
      out.field = this.field;
      out.fieldZh = this.fieldZh;
      out.fieldEn = this.fieldEn;
    }
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

/**
 * True for a DomainError, also when it crossed a module boundary (Temporal's workflow sandbox loads its own
 * copy of this module, so `instanceof` alone is not enough).
 */
export function isDomainError(e: unknown): e is DomainError {
  if (e instanceof DomainError) return true;
  if (typeof e !== 'object' || e === null) return false;
  const o = e as Record<string, unknown>;
  return (
    (o.name === 'DomainError' || o.name === 'ValidationErrors') &&
    typeof o.code === 'string' &&
    typeof o.messageZh === 'string' &&
    typeof o.messageEn === 'string'
  );
}

interface HelperOptions {
  code?: string;
  httpStatus?: number;
  details?: Readonly<Record<string, unknown>>;
}

/**
 * A field failed validation. The messages are prefixed with the field's label:
 * `invalidField(FIELDS.uscc, '校验码错误', 'check character is wrong')` →
 * "统一社会信用代码：校验码错误" / "Unified social credit code: check character is wrong".
 */
export function invalidField(
  field: FieldRef | string,
  zh: string,
  en: string,
  opts: HelperOptions = {},
): DomainError {
  const f = resolveField(field);
  return new DomainError({
    code: opts.code ?? 'INVALID_FIELD',
    field: f,
    messageZh: `${f.zh}：${zh}`,
    messageEn: `${f.en}: ${en}`,
    httpStatus: opts.httpStatus ?? 400,
    details: opts.details,
  });
}

/** A required field is missing or blank. */
export function requiredField(field: FieldRef | string, opts: HelperOptions = {}): DomainError {
  return invalidField(field, '必须填写', 'is required', { code: 'REQUIRED_FIELD', ...opts });
}

/** Well-formed input that a business rule forbids (HTTP 422). */
export function ruleViolation(
  code: string,
  zh: string,
  en: string,
  opts: { field?: FieldRef | string; details?: Readonly<Record<string, unknown>> } = {},
): DomainError {
  if (opts.field !== undefined) {
    return invalidField(opts.field, zh, en, { code, httpStatus: 422, details: opts.details });
  }
  return new DomainError({ code, messageZh: zh, messageEn: en, httpStatus: 422, details: opts.details });
}

/** Conflict with existing state (HTTP 409). */
export function conflict(
  code: string,
  zh: string,
  en: string,
  details?: Readonly<Record<string, unknown>>,
): DomainError {
  return new DomainError({ code, messageZh: zh, messageEn: en, httpStatus: 409, details });
}

/** A referenced thing does not exist (HTTP 404). */
export function notFound(
  code: string,
  zh: string,
  en: string,
  details?: Readonly<Record<string, unknown>>,
): DomainError {
  return new DomainError({ code, messageZh: zh, messageEn: en, httpStatus: 404, details });
}

/**
 * Several field errors at once, so a form can show all of them. `errors` is flat (nested aggregates are
 * flattened). The HTTP status is the common status of the errors, or 400 when they differ.
 */
export class ValidationErrors extends DomainError {
  readonly errors: readonly DomainError[];

  constructor(errors: readonly DomainError[]) {
    const flat = flattenErrors(errors);
    if (flat.length === 0) throw new Error('ValidationErrors needs at least one error');
    const statuses = new Set(flat.map((e) => e.httpStatus));
    super({
      code: 'VALIDATION_FAILED',
      messageZh: flat.map((e) => e.messageZh).join('；'),
      messageEn: flat.map((e) => e.messageEn).join('; '),
      httpStatus: statuses.size === 1 ? flat[0]!.httpStatus : 400,
      details: { count: flat.length },
    });
    this.name = 'ValidationErrors';
    this.errors = flat;
  }

  /** Errors for one field path. */
  forField(field: string): DomainError[] {
    return this.errors.filter((e) => e.field === field);
  }

  override toJSON(): DomainErrorJson {
    return { ...super.toJSON(), errors: this.errors.map((e) => e.toJSON()) };
  }
}

function flattenErrors(errors: readonly DomainError[]): DomainError[] {
  const out: DomainError[] = [];
  for (const e of errors) {
    if (e instanceof ValidationErrors) out.push(...e.errors);
    else out.push(e);
  }
  return out;
}

/**
 * Collects field errors while a form is validated.
 *
 *   const v = new ValidationCollector();
 *   const uscc = v.check(() => parseUscc(form.uscc));
 *   const id = v.check(() => parseResidentId(form.handlerId));
 *   v.throwIfAny();
 *
 * `check` swallows DomainErrors only; any other exception is a bug and propagates.
 */
export class ValidationCollector {
  private readonly list: DomainError[] = [];

  check<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof DomainError) {
        this.add(e);
        return undefined;
      }
      throw e;
    }
  }

  add(e: DomainError): this {
    this.list.push(...flattenErrors([e]));
    return this;
  }

  get errors(): readonly DomainError[] {
    return this.list;
  }

  get hasErrors(): boolean {
    return this.list.length > 0;
  }

  throwIfAny(): void {
    if (this.list.length === 1) throw this.list[0]!;
    if (this.list.length > 1) throw new ValidationErrors(this.list);
  }

  /** Like {@link throwIfAny} but always throws the aggregate, even for one error. */
  throwAggregateIfAny(): void {
    if (this.list.length > 0) throw new ValidationErrors(this.list);
  }
}
