import {
  computeUsccCheckCharacter,
  fieldRef,
  parseUscc,
  suggestHolderKind,
  USCC_CHARSET,
  DomainError,
} from '../../domain';
import { catchDomainError } from '../helpers/domain-errors';

/** Whether parseUscc accepts the input (a refusal is a DomainError; anything else is a bug and fails the test). */
const accepts = (input: string): boolean => {
  try {
    parseUscc(input);
    return true;
  } catch (e) {
    if (e instanceof DomainError) return false;
    throw e;
  }
};

/**
 * Codes of well-known companies as published in the National Enterprise Credit Information Publicity System.
 * Each was checked independently while writing these tests: its GB 32100 check character verifies, and so
 * does the GB 11714 check character of the organisation code embedded in characters 9-17 (a second,
 * unrelated checksum a made-up code would pass only by chance).
 */
const PUBLISHED: ReadonlyArray<[code: string, holder: string, division: string]> = [
  ['91110000802100433B', '北京百度网讯科技有限公司', '110000'],
  ['91110108551385082Q', '小米科技有限责任公司', '110108'],
  ['91110108558521630L', '北京三快在线科技有限公司', '110108'],
  ['91110302562134916R', '北京京东世纪贸易有限公司', '110302'],
  ['91110108700000458B', '联想(北京)有限公司', '110108'],
  ['91110000710926094P', '中国石油化工股份有限公司', '110000'],
  ['9111000071093123XX', '国家电网有限公司', '110000'],
  ['91100000100003962T', '中国工商银行股份有限公司', '100000'],
];


/** A structurally valid code with a correct check character, for cases the published list doesn't cover. */
function withCheck(first17: string): string {
  return first17 + computeUsccCheckCharacter(first17);
}

describe('unified social credit code (GB 32100-2015)', () => {
  it.each(PUBLISHED)('S2: accepts the published code %s (%s)', (code, _holder, division) => {
    const parts = parseUscc(code);
    expect(parts.code).toBe(code);
    expect(parts.checkCharacter).toBe(code[17]);
    expect(parts.administrativeDivisionCode).toBe(division);
    expect(parts.registrationDepartmentCode).toBe('9');
    expect(parts.organisationCategoryCode).toBe('1');
    expect(parts.organisationCategoryZh).toBe('企业');
    expect(computeUsccCheckCharacter(code.slice(0, 17))).toBe(code[17]);
  });

  it.each(PUBLISHED)('%s also carries a valid GB 11714 organisation code (evidence it is a real code)', (code) => {
    const weights = [3, 7, 9, 10, 5, 8, 4, 2];
    const org = code.slice(8, 17);
    const sum = weights.reduce((acc, w, i) => acc + Number(org[i]) * w, 0);
    const c = 11 - (sum % 11);
    expect(org[8]).toBe(c === 10 ? 'X' : c === 11 ? '0' : String(c));
  });

  it('S2: splits a code into department, category, division, organisation code and check character', () => {
    expect(parseUscc('91110108551385082Q')).toEqual({
      code: '91110108551385082Q',
      registrationDepartmentCode: '9',
      registrationDepartmentZh: '工商',
      registrationDepartmentEn: 'Market regulation (industry and commerce)',
      organisationCategoryCode: '1',
      organisationCategoryZh: '企业',
      organisationCategoryEn: 'Enterprise',
      administrativeDivisionCode: '110108',
      organisationCode: '551385082',
      checkCharacter: 'Q',
      registeredInBeijing: true,
    });
  });

  it('S2: a nationally registered code (division 100000) is valid but not registered in Beijing', () => {
    const p = parseUscc('91100000100003962T');
    expect(p.administrativeDivisionCode).toBe('100000');
    expect(p.registeredInBeijing).toBe(false);
  });

  it('S2: an X inside the organisation code part is an ordinary character', () => {
    const p = parseUscc('9111000071093123XX');
    expect(p.organisationCode).toBe('71093123X');
    expect(p.checkCharacter).toBe('X');
  });

  it('S2: maps a weighted sum divisible by 31 to check character 0 (31 → 0)', () => {
    expect(computeUsccCheckCharacter('911101085513850F2')).toBe('0');
    expect(accepts('911101085513850F20')).toBe(true);
    expect(accepts('911101085513850F2Y')).toBe(false);
  });

  it('S2: normalises lower case, surrounding and inner whitespace and full-width characters', () => {
    expect(parseUscc('  91110108551385082q\n').code).toBe('91110108551385082Q');
    expect(parseUscc('9111 0108 5513 8508 2Q').code).toBe('91110108551385082Q');
    expect(parseUscc('９１１１０１０８５５１３８５０８２Ｑ').code).toBe('91110108551385082Q');
    expect(parseUscc('9111\u30000108551385082Q').code).toBe('91110108551385082Q');
  });

  it('S2: rejects a USCC whose check character is wrong, naming the field and the expected character', () => {
    const e = catchDomainError(() => parseUscc('91110108551385082R'));
    expect(e.code).toBe('USCC_CHECK');
    expect(e.field).toBe('uscc');
    expect(e.httpStatus).toBe(400);
    expect(e.details).toEqual({ expected: 'Q', actual: 'R' });
    expect(e.messageZh).toMatch(/^统一社会信用代码：校验码错误/);
    expect(e.messageZh).toContain('“Q”');
    expect(e.messageEn).toMatch(/^Unified social credit code: check character is wrong/);
  });

  it('S2: detects every single-character substitution in a valid code', () => {
    for (const [code] of PUBLISHED) {
      for (let i = 0; i < 18; i++) {
        for (const c of USCC_CHARSET) {
          if (c === code[i]) continue;
          const mutated = code.slice(0, i) + c + code.slice(i + 1);
          expect([mutated, accepts(mutated)]).toEqual([mutated, false]);
        }
      }
    }
  });

  it('S2: detects every transposition of two adjacent different characters', () => {
    for (const [code] of PUBLISHED) {
      for (let i = 0; i < 17; i++) {
        if (code[i] === code[i + 1]) continue;
        const swapped = code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2);
        expect([swapped, accepts(swapped)]).toEqual([swapped, false]);
      }
    }
  });

  it('S2: rejects a code of the wrong length with the actual length', () => {
    const short = catchDomainError(() => parseUscc('91110108551385082'));
    expect(short.code).toBe('USCC_LENGTH');
    expect(short.messageZh).toBe('统一社会信用代码：应为18位，实际为17位');
    expect(short.messageEn).toBe('Unified social credit code: must have 18 characters, not 17');
    expect(catchDomainError(() => parseUscc('91110108551385082QQ')).code).toBe('USCC_LENGTH');
  });

  it('S2: rejects the letters I, O, S, V and Z with a hint and the position', () => {
    const e = catchDomainError(() => parseUscc('91110108551385O82Q'));
    expect(e.code).toBe('USCC_CHARSET');
    expect(e.details).toEqual({ position: 15, character: 'O' });
    expect(e.messageZh).toContain('第15位字符“O”不合法');
    expect(e.messageEn).toContain('I, O, S, V and Z are not used');
    expect(catchDomainError(() => parseUscc('9111010855138508-Q')).code).toBe('USCC_CHARSET');
  });

  it('S2: rejects an unknown registration department even with a matching check character', () => {
    const code = withCheck('B1110108551385082');
    const e = catchDomainError(() => parseUscc(code));
    expect(e.code).toBe('USCC_DEPARTMENT');
    expect(e.messageZh).toContain('登记管理部门代码“B”不存在');
  });

  it('S2: rejects an administrative division that is not 6 digits even with a matching check character', () => {
    const e = catchDomainError(() => parseUscc(withCheck('9111010A551385082')));
    expect(e.code).toBe('USCC_DIVISION');
    expect(e.details).toEqual({ administrativeDivisionCode: '11010A' });
    expect(catchDomainError(() => parseUscc(withCheck('91000000551385082'))).code).toBe('USCC_DIVISION');
  });

  it('S2: a missing code is a required-field error; a non-string is a format error', () => {
    for (const v of [undefined, null, '', '   ']) {
      const e = catchDomainError(() => parseUscc(v));
      expect(e.code).toBe('REQUIRED_FIELD');
      expect(e.messageZh).toBe('统一社会信用代码：必须填写');
      expect(e.messageEn).toBe('Unified social credit code: is required');
    }
    expect(catchDomainError(() => parseUscc(911101)).code).toBe('USCC_FORMAT');
  });

  it('names a caller-supplied field (e.g. the maker’s code) in its errors', () => {
    const field = fieldRef('maker.uscc', '制作单位统一社会信用代码', "Maker's unified social credit code");
    const e = catchDomainError(() => parseUscc('91110108551385082R', { field }));
    expect(e.field).toBe('maker.uscc');
    expect(e.fieldZh).toBe('制作单位统一社会信用代码');
    expect(e.messageEn).toMatch(/^Maker's unified social credit code: /);
  });

  it('labels non-enterprise departments and leaves unknown categories unlabelled', () => {
    const organ = parseUscc(withCheck('11110000000000001'));
    expect([organ.registrationDepartmentZh, organ.organisationCategoryZh]).toEqual(['机构编制', '机关']);
    const socialGroup = parseUscc(withCheck('51110000500000001'));
    expect([socialGroup.registrationDepartmentZh, socialGroup.organisationCategoryZh]).toEqual(['民政', '社会团体']);
    const odd = parseUscc(withCheck('97110000500000001'));
    expect(odd.organisationCategoryZh).toBeUndefined();
  });

  it('S2: suggests a holder kind from department and category', () => {
    const kind = (first17: string) => suggestHolderKind(parseUscc(withCheck(first17)));
    expect(kind('91110108551385082')).toBe('enterprise');
    expect(kind('92110105MA01ABCD1')).toBe('individual_business');
    expect(kind('93110116MA01ABCD1')).toBe('other_organisation');
    expect(kind('11110000000000001')).toBe('state_organ');
    expect(kind('12110000400000001')).toBe('public_institution');
    expect(kind('13110000500000001')).toBe('peoples_organisation');
    expect(kind('52110108MJ0000001')).toBe('social_organisation');
    expect(kind('31110000400000001')).toBe('other_organisation');
    expect(kind('19110000400000001')).toBeUndefined();
    expect(kind('81110000400000001')).toBeUndefined();
  });
});
