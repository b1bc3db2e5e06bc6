import {
  assertBusinessSealNumberAvailable,
  assertNoLiveLegalNameSeal,
  BUSINESS_SEAL_KINDS,
  nextBusinessSealNumber,
  nextBusinessSealNumberFor,
  type NumberedSealRecord,
  SEAL_KINDS,
  sealDisplayLabel,
  type SealStatus,
} from '../../domain';
import { catchDomainError } from '../helpers/domain-errors';


describe('A1: one live legal-name seal', () => {
  it.each<SealStatus>(['in_production', 'ready', 'active', 'suspended', 'stopped'])(
    'A1: rejects a second legal-name seal while the first is %s',
    (status) => {
      const e = catchDomainError(() =>
        assertNoLiveLegalNameSeal([
          { id: 's-1', kind: 'business_contract', status: 'active', number: 1 },
          { id: 's-2', kind: 'legal_name', status },
        ]),
      );
      expect(e.code).toBe('LEGAL_NAME_SEAL_EXISTS');
      expect(e.httpStatus).toBe(409);
      expect(e.details).toEqual({ existingSealId: 's-2', existingStatus: status });
      expect(e.messageZh).toContain('只能申请一枚');
      expect(e.messageEn).toContain('may have only one');
    },
  );

  it('A1: allows a new legal-name seal once every earlier one is cancelled', () => {
    expect(() =>
      assertNoLiveLegalNameSeal([
        { kind: 'legal_name', status: 'cancelled' },
        { kind: 'legal_name', status: 'cancelled' },
        { kind: 'business_finance', status: 'active', number: 1 },
      ]),
    ).not.toThrow();
    expect(() => assertNoLiveLegalNameSeal([])).not.toThrow();
  });

  it('A1: live seals of other kinds, however many, never block a legal-name seal', () => {
    const others: NumberedSealRecord[] = SEAL_KINDS.filter((k) => k !== 'legal_name').map((kind) => ({
      kind,
      status: 'active',
      number: BUSINESS_SEAL_KINDS.includes(kind as never) ? 1 : undefined,
    }));
    expect(() => assertNoLiveLegalNameSeal(others)).not.toThrow();
  });
});

describe('A1: numbering of business-purpose seals', () => {
  it('A1: the first business seal of a kind is number 1', () => {
    expect(nextBusinessSealNumber([])).toBe(1);
  });

  it('A1: the next number is the highest used plus one', () => {
    expect(nextBusinessSealNumber([1])).toBe(2);
    expect(nextBusinessSealNumber([2, 1, 3])).toBe(4);
  });

  it('A1: gaps are not filled, so a number is never given to two seals', () => {
    expect(nextBusinessSealNumber([1, 3])).toBe(4);
    expect(nextBusinessSealNumber([1, 1, 2])).toBe(3);
  });

  it('A1: the number of a cancelled seal is never reused, even when it was the highest', () => {
    const seals: NumberedSealRecord[] = [
      { kind: 'business_contract', status: 'active', number: 1 },
      { kind: 'business_contract', status: 'cancelled', number: 2 },
    ];
    expect(nextBusinessSealNumberFor(seals, 'business_contract')).toBe(3);
  });

  it('A1: each business kind has its own sequence', () => {
    const seals: NumberedSealRecord[] = [
      { kind: 'business_contract', status: 'active', number: 1 },
      { kind: 'business_contract', status: 'active', number: 2 },
      { kind: 'business_finance', status: 'active', number: 1 },
      { kind: 'legal_name', status: 'active' },
    ];
    expect(nextBusinessSealNumberFor(seals, 'business_contract')).toBe(3);
    expect(nextBusinessSealNumberFor(seals, 'business_finance')).toBe(2);
    expect(nextBusinessSealNumberFor(seals, 'business_invoice')).toBe(1);
  });

  it('refuses corrupt existing numbers instead of guessing', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => nextBusinessSealNumber([1, bad])).toThrow(RangeError);
    }
  });

  it('A1: shows the number on the seal label: 合同专用章(2)', () => {
    expect(sealDisplayLabel('business_contract', 2)).toEqual({ zh: '合同专用章(2)', en: 'Contract seal (2)' });
    expect(sealDisplayLabel('business_customs', 1)).toEqual({ zh: '报关专用章(1)', en: 'Customs declaration seal (1)' });
    expect(sealDisplayLabel('legal_name')).toEqual({ zh: '法定名称章', en: 'Legal-name seal' });
  });

  it('A1: a business seal needs a number and other kinds take none', () => {
    expect(() => sealDisplayLabel('business_finance')).toThrow(RangeError);
    expect(() => sealDisplayLabel('business_finance', 0)).toThrow(RangeError);
    expect(() => sealDisplayLabel('legal_name', 1)).toThrow(RangeError);
    expect(() => sealDisplayLabel('personal_name', 3)).toThrow(RangeError);
  });

  it('A1: a seal filed from another system cannot take a number already used, live or cancelled', () => {
    const seals: NumberedSealRecord[] = [
      { id: 'a', kind: 'business_invoice', status: 'active', number: 1 },
      { id: 'b', kind: 'business_invoice', status: 'cancelled', number: 2 },
    ];
    for (const n of [1, 2]) {
      const e = catchDomainError(() => assertBusinessSealNumberAvailable(seals, 'business_invoice', n));
      expect(e.code).toBe('SEAL_NUMBER_USED');
      expect(e.httpStatus).toBe(409);
      expect(e.messageZh).toBe(`发票专用章(${n})已被使用，编号不得重复使用`);
    }
    expect(() => assertBusinessSealNumberAvailable(seals, 'business_invoice', 3)).not.toThrow();
    expect(() => assertBusinessSealNumberAvailable(seals, 'business_contract', 1)).not.toThrow();
    const bad = catchDomainError(() => assertBusinessSealNumberAvailable(seals, 'business_invoice', 0));
    expect([bad.code, bad.field, bad.messageZh]).toEqual(['SEAL_NUMBER_INVALID', 'sealNumber', '印章编号：应为正整数']);
  });
});
