import {
  conflict,
  DomainError,
  fieldRef,
  FIELDS,
  invalidField,
  isDomainError,
  notFound,
  parseResidentId,
  parseUscc,
  requiredField,
  ruleViolation,
  ValidationCollector,
  ValidationErrors,
  withArticle,
} from '../../domain';

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

describe('DomainError', () => {
  it('is an Error carrying code, field, bilingual messages and an HTTP status', () => {
    const e = invalidField(FIELDS.uscc, '校验码错误', 'check character is wrong', { code: 'USCC_CHECK' });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(DomainError);
    expect(e.name).toBe('DomainError');
    expect(e.code).toBe('USCC_CHECK');
    expect(e.field).toBe('uscc');
    expect(e.fieldZh).toBe('统一社会信用代码');
    expect(e.fieldEn).toBe('Unified social credit code');
    expect(e.messageZh).toBe('统一社会信用代码：校验码错误');
    expect(e.messageEn).toBe('Unified social credit code: check character is wrong');
    expect(e.message).toBe(e.messageEn);
    expect(e.httpStatus).toBe(400);
  });

  it('every validation error names its field in Chinese and English, also for a path given as a string', () => {
    const known = invalidField('residentId', '格式错误', 'is malformed');
    expect([known.messageZh, known.messageEn]).toEqual(['公民身份号码：格式错误', 'Resident ID number: is malformed']);
    const custom = invalidField(fieldRef('legalRep.phone', '法定代表人联系电话', "Legal representative's phone"), '格式错误', 'is malformed');
    expect(custom.messageZh).toBe('法定代表人联系电话：格式错误');
    const unknown = invalidField('holder.address', '不能为空', 'must not be empty');
    expect([unknown.field, unknown.messageEn]).toEqual(['holder.address', 'holder.address: must not be empty']);
    const required = requiredField(FIELDS.district);
    expect([required.code, required.messageZh, required.messageEn]).toEqual(['REQUIRED_FIELD', '所属行政区：必须填写', 'District: is required']);
  });

  it('conflict, not-found and rule-violation helpers carry 409, 404 and 422', () => {
    expect(conflict('X', '冲突', 'conflict').httpStatus).toBe(409);
    expect(notFound('Y', '不存在', 'not found').httpStatus).toBe(404);
    const r = ruleViolation('Z', '不允许', 'not allowed', { field: FIELDS.sealKind });
    expect([r.httpStatus, r.field, r.messageZh]).toEqual([422, 'sealKind', '印章类型：不允许']);
    expect(ruleViolation('Z', '不允许', 'not allowed').field).toBeUndefined();
  });

  it('serialises to JSON for the API, including the field labels and details', () => {
    const e = invalidField(FIELDS.uscc, '校验码错误', 'check character is wrong', { code: 'USCC_CHECK', details: { expected: 'Q' } });
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 'USCC_CHECK',
      field: 'uscc',
      fieldZh: '统一社会信用代码',
      fieldEn: 'Unified social credit code',
      messageZh: '统一社会信用代码：校验码错误',
      messageEn: 'Unified social credit code: check character is wrong',
      httpStatus: 400,
      details: { expected: 'Q' },
    });
  });

  it('isDomainError recognises a copy that crossed a module boundary (as in a Temporal sandbox) and nothing else', () => {
    const e = invalidField(FIELDS.uscc, 'x', 'x');
    expect(isDomainError(e)).toBe(true);
    expect(isDomainError({ ...e.toJSON(), name: 'DomainError' })).toBe(true);
    expect(isDomainError(new Error('x'))).toBe(false);
    expect(isDomainError({ name: 'DomainError' })).toBe(false);
    expect(isDomainError(null)).toBe(false);
  });

  it('withArticle picks a/an', () => {
    expect(withArticle('Enterprise')).toBe('an enterprise');
    expect(withArticle('State organ')).toBe('a state organ');
  });
});

describe('ValidationErrors', () => {
  it('aggregates field errors so a form can show them all, with joined messages', () => {
    const a = invalidField(FIELDS.uscc, '校验码错误', 'check character is wrong');
    const b = requiredField(FIELDS.district);
    const agg = new ValidationErrors([a, b]);
    expect(agg).toBeInstanceOf(DomainError);
    expect(agg.code).toBe('VALIDATION_FAILED');
    expect(agg.httpStatus).toBe(400);
    expect(agg.errors).toEqual([a, b]);
    expect(agg.messageZh).toBe('统一社会信用代码：校验码错误；所属行政区：必须填写');
    expect(agg.messageEn).toBe('Unified social credit code: check character is wrong; District: is required');
    expect(agg.forField('district')).toEqual([b]);
    const json = agg.toJSON();
    expect(json.errors?.map((x) => x.field)).toEqual(['uscc', 'district']);
  });

  it('flattens nested aggregates and keeps a common status', () => {
    const r1 = ruleViolation('A', 'a', 'a');
    const r2 = ruleViolation('B', 'b', 'b');
    const agg = new ValidationErrors([new ValidationErrors([r1]), r2]);
    expect(agg.errors).toEqual([r1, r2]);
    expect(agg.httpStatus).toBe(422);
    expect(() => new ValidationErrors([])).toThrow();
  });

  it('the collector gathers every invalid field of a form and throws them together', () => {
    const v = new ValidationCollector();
    const uscc = v.check(() => parseUscc('91110108551385082R'));
    const id = v.check(() => parseResidentId('11010519491231002X'));
    const handler = v.check(() => parseResidentId('110105194912310021', { field: fieldRef('handler.id', '经办人身份证号码', "Handler's ID") }));
    expect(uscc).toBeUndefined();
    expect(id?.birthDate).toBe('1949-12-31');
    expect(handler).toBeUndefined();
    expect(v.hasErrors).toBe(true);
    const e = catchError(() => v.throwIfAny());
    expect(e).toBeInstanceOf(ValidationErrors);
    expect((e as ValidationErrors).errors.map((x) => [x.field, x.code])).toEqual([
      ['uscc', 'USCC_CHECK'],
      ['handler.id', 'RESIDENT_ID_CHECK'],
    ]);
  });

  it('the collector rethrows a single error as itself, and lets programming errors through', () => {
    const v = new ValidationCollector();
    v.check(() => parseUscc(''));
    expect((catchError(() => v.throwIfAny()) as DomainError).code).toBe('REQUIRED_FIELD');
    expect(() =>
      v.check(() => {
        throw new TypeError('bug');
      }),
    ).toThrow(TypeError);
    expect(() => new ValidationCollector().throwIfAny()).not.toThrow();
  });
});
