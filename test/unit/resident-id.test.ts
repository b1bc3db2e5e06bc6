import {
  computeResidentIdCheckCharacter,
  districtOfDivisionCode,
  fieldRef,
  maskResidentId,
  parseResidentId,
  DomainError,
} from '../../domain';
import { catchDomainError } from '../helpers/domain-errors';

/** Whether parseResidentId accepts the input (a refusal is a DomainError; anything else is a bug and fails the test). */
const accepts = (input: string): boolean => {
  try {
    parseResidentId(input);
    return true;
  } catch (e) {
    if (e instanceof DomainError) return false;
    throw e;
  }
};


const withCheck = (first17: string) => first17 + computeResidentIdCheckCharacter(first17);

describe('resident ID number (GB 11643-1999)', () => {
  it('S2: accepts the standard’s own example 11010519491231002X (female, born 1949-12-31 in 朝阳区)', () => {
    expect(parseResidentId('11010519491231002X')).toEqual({
      id: '11010519491231002X',
      divisionCode: '110105',
      birthDate: '1949-12-31',
      sex: 'female',
      sequenceCode: '002',
      checkCharacter: 'X',
    });
  });

  it('S2: accepts the standard’s second example 440524188001010014 (male, born 1880-01-01)', () => {
    const p = parseResidentId('440524188001010014');
    expect([p.birthDate, p.sex, p.divisionCode, p.checkCharacter]).toEqual(['1880-01-01', 'male', '440524', '4']);
  });

  it('S2: reads sex from the 17th digit (odd male, even female), independent of an X check character', () => {
    expect(parseResidentId('11010819880808105X').sex).toBe('male');
    expect(parseResidentId('110108199003071238').sex).toBe('male');
    expect(parseResidentId('110105200002290021').sex).toBe('female');
  });

  it('S2: accepts a lower-case x and surrounding whitespace, normalising to upper case', () => {
    expect(parseResidentId(' 11010519491231002x ').id).toBe('11010519491231002X');
  });

  it('S2: rejects a resident ID whose check digit is wrong, naming the field and the expected character', () => {
    const e = catchDomainError(() => parseResidentId('110105194912310021'));
    expect(e.code).toBe('RESIDENT_ID_CHECK');
    expect(e.field).toBe('residentId');
    expect(e.details).toEqual({ expected: 'X', actual: '1' });
    expect(e.messageZh).toMatch(/^公民身份号码：校验码错误/);
    expect(e.messageEn).toMatch(/^Resident ID number: check character is wrong/);
  });

  it('S2: detects every single-digit substitution', () => {
    const id = '110108199003071238';
    for (let i = 0; i < 18; i++) {
      for (const c of '0123456789X') {
        if (c === id[i] || (c === 'X' && i < 17)) continue;
        const mutated = id.slice(0, i) + c + id.slice(i + 1);
        expect([mutated, accepts(mutated)]).toEqual([mutated, false]);
      }
    }
  });

  it('S2: accepts 29 February in a leap year (2000) and rejects it in 1900 and 2001 although the check digit matches', () => {
    expect(parseResidentId('110105200002290021').birthDate).toBe('2000-02-29');
    for (const id of [withCheck('11010519000229001'), withCheck('11010520010229001')]) {
      const e = catchDomainError(() => parseResidentId(id));
      expect(e.code).toBe('RESIDENT_ID_BIRTH_DATE');
    }
  });

  it('S2: rejects impossible birth dates (31 April, month 13, day 00, year before 1800)', () => {
    for (const first17 of ['11010519900431001', '11010519901301001', '11010519900100001', '11010517991231001']) {
      const e = catchDomainError(() => parseResidentId(withCheck(first17)));
      expect(e.code).toBe('RESIDENT_ID_BIRTH_DATE');
    }
    expect(catchDomainError(() => parseResidentId(withCheck('11010519900431001'))).messageZh).toBe(
      '公民身份号码：出生日期“1990-04-31”不是有效日期',
    );
  });

  it('S2: rejects a birth date after the given instant’s Beijing date (the clock is passed in, not read)', () => {
    const id = withCheck('11010520260101001'); // born 2026-01-01
    // 2025-12-31T15:59:59Z is 23:59:59 on 31 December in Beijing: not born yet.
    expect(catchDomainError(() => parseResidentId(id, { asOf: new Date('2025-12-31T15:59:59Z') })).messageEn).toContain(
      'is in the future',
    );
    // 2025-12-31T16:00:00Z is already 1 January in Beijing.
    expect(parseResidentId(id, { asOf: new Date('2025-12-31T16:00:00Z') }).birthDate).toBe('2026-01-01');
    expect(parseResidentId(id).birthDate).toBe('2026-01-01');
  });

  it('S2: rejects an address code outside the province-level codes', () => {
    const e = catchDomainError(() => parseResidentId(withCheck('99010519900101001')));
    expect(e.code).toBe('RESIDENT_ID_DIVISION');
  });

  it('S2: rejects the old 15-digit number with a dedicated message', () => {
    const e = catchDomainError(() => parseResidentId('110105491231002'));
    expect(e.code).toBe('RESIDENT_ID_LEGACY');
    expect(e.messageZh).toContain('15位旧身份证号码');
  });

  it('S2: rejects wrong lengths, letters and a missing value', () => {
    expect(catchDomainError(() => parseResidentId('1101051949123100')).code).toBe('RESIDENT_ID_LENGTH');
    expect(catchDomainError(() => parseResidentId('1101051949123100XX')).code).toBe('RESIDENT_ID_CHARSET');
    expect(catchDomainError(() => parseResidentId('X10105194912310021')).code).toBe('RESIDENT_ID_CHARSET');
    expect(catchDomainError(() => parseResidentId('')).messageZh).toBe('公民身份号码：必须填写');
    expect(catchDomainError(() => parseResidentId(110105)).code).toBe('RESIDENT_ID_FORMAT');
  });

  it('names a caller-supplied field such as the handler’s ID', () => {
    const field = fieldRef('handler.idNumber', '经办人身份证号码', "Handler's ID number");
    const e = catchDomainError(() => parseResidentId('110105194912310021', { field }));
    expect(e.field).toBe('handler.idNumber');
    expect(e.messageZh).toMatch(/^经办人身份证号码：/);
  });

  it('the address code of a Beijing-born person maps to a district', () => {
    expect(districtOfDivisionCode(parseResidentId('11010519491231002X').divisionCode)?.nameZh).toBe('朝阳区');
    expect(districtOfDivisionCode(parseResidentId('440524188001010014').divisionCode)).toBeUndefined();
  });

  it('masks the birth date for display, keeping the address code and the last four characters', () => {
    expect(maskResidentId('11010519491231002X')).toBe('110105********002X');
    expect(maskResidentId('110108199003071238')).toBe('110108********1238');
    expect(maskResidentId(' 11010519491231002x')).toBe('110105********002X');
    expect(maskResidentId('110105491231002')).toBe('***********1002');
    expect(maskResidentId('123')).toBe('***');
    // A masked number reveals neither the birth date nor enough to recompute it.
    expect(maskResidentId('11010519491231002X')).not.toContain('19491231');
  });
});
