// S2, A2: every kind of valid identity document, each by its own check rules, with real-format numbers.
import { documentOfKey, identityFields, identityKey, maskIdentityKey, parseIdentityDocument } from '../../domain/identity-documents';
import { catchDomainError } from '../helpers/domain-errors';

const F = identityFields('handler.', '经办人', "Handler's");
const parse = (type: string | undefined, number: string, country?: string) => parseIdentityDocument({ type, number, country }, F, new Date('2026-12-01T00:00:00Z'));
const refusal = (type: string | undefined, number: string, country?: string) => {
  const e = catchDomainError(() => parse(type, number, country));
  return { code: e.code, field: e.field, zh: e.messageZh, en: e.messageEn };
};

describe('identity documents (S2, A2)', () => {
  it('S2: no type is a mainland resident ID (GB 11643), keyed by the bare number as before', () => {
    expect(identityKey(parse(undefined, '11010519491231002x'))).toBe('11010519491231002X');
    expect(refusal(undefined, '110105194912310021')).toMatchObject({ code: 'RESIDENT_ID_CHECK', field: 'handler.id_number', zh: expect.stringMatching(/^经办人身份证件号码：校验码错误/) });
  });

  it('S2: foreign permanent residence ID, the 15-character card (ICAO 7-3-1 check digit) and the 2023 18-digit card (GB 11643 check)', () => {
    expect(identityKey(parse('foreign_permanent_resident_id', 'KAZ110090123105'))).toBe('foreign_permanent_resident_id:KAZ110090123105');
    expect(refusal('foreign_permanent_resident_id', 'KAZ110090123107')).toMatchObject({ code: 'ID_CHECK', en: expect.stringContaining('should be "5"') });
    expect(refusal('foreign_permanent_resident_id', 'KAA110090123105')).toMatchObject({ code: 'ID_NATIONALITY' });
    expect(refusal('foreign_permanent_resident_id', 'KAZ110090023105')).toMatchObject({ code: 'ID_BIRTH_DATE' });
    expect(identityKey(parse('foreign_permanent_resident_id', '911398199012310021'))).toBe('foreign_permanent_resident_id:911398199012310021');
    expect(refusal('foreign_permanent_resident_id', '911398199012310022')).toMatchObject({ code: 'ID_CHECK' });
    expect(refusal('foreign_permanent_resident_id', '911999199012310021')).toMatchObject({ code: 'ID_NATIONALITY' });
    expect(refusal('foreign_permanent_resident_id', '11010519491231002X')).toMatchObject({ code: 'ID_FORMAT', zh: expect.stringContaining('外国人永久居留身份证号码') });
  });

  it('S2: residence permits of Hong Kong, Macao and Taiwan residents: 810000/820000/830000 and the GB 11643 check', () => {
    for (const n of ['810000199408230021', '820000200009150013', '830000199201300022']) expect(identityKey(parse('hmt_residence_permit', n))).toBe(n);
    expect(documentOfKey('830000199201300022').type).toBe('hmt_residence_permit');
    expect(refusal('hmt_residence_permit', '810000199408230022')).toMatchObject({ code: 'RESIDENT_ID_CHECK' });
    expect(refusal('hmt_residence_permit', '11010519491231002X')).toMatchObject({ code: 'ID_DIVISION', en: expect.stringContaining('810000') });
  });

  it('S2: mainland travel permits: H/M + 8 digits for Hong Kong and Macao, 8 digits for Taiwan', () => {
    expect(identityKey(parse('hk_macao_travel_permit', 'h 1234 5678'))).toBe('hk_macao_travel_permit:H12345678');
    expect(identityKey(parse('hk_macao_travel_permit', 'M87654321'))).toBe('hk_macao_travel_permit:M87654321');
    expect(refusal('hk_macao_travel_permit', 'C12345678')).toMatchObject({ code: 'ID_FORMAT', en: expect.stringContaining('H (Hong Kong) or M (Macao)') });
    expect(identityKey(parse('taiwan_travel_permit', '01234567'))).toBe('taiwan_travel_permit:01234567');
    expect(refusal('taiwan_travel_permit', '1234567')).toMatchObject({ code: 'ID_FORMAT' });
  });

  it('A2: passports carry an ISO 3166 country and a number; a Chinese one is E/G + 8', () => {
    const de = parse('passport', 'C01X00T47', 'DE');
    expect(de).toEqual({ type: 'passport', number: 'C01X00T47', country: 'DEU' });
    expect(maskIdentityKey(identityKey(de))).toBe('DEU *****0T47');
    expect(identityKey(parse('passport', 'E12345678', 'CHN'))).toBe('passport:CHN:E12345678');
    expect(refusal('passport', '123456789', 'CHN')).toMatchObject({ code: 'ID_FORMAT' });
    expect(refusal('passport', 'C01X00T47', 'XX')).toMatchObject({ code: 'ID_COUNTRY', field: 'handler.id_country' });
    expect(refusal('passport', 'C01X00T47')).toMatchObject({ code: 'REQUIRED_FIELD', field: 'handler.id_country' });
    expect(refusal('passport', 'AB', 'USA')).toMatchObject({ code: 'ID_FORMAT', zh: expect.stringContaining('5至9位') });
  });

  it('S2: an unknown type, or a country for a non-passport, names its field in both languages', () => {
    expect(refusal('driving_licence', '11010519491231002X')).toMatchObject({ code: 'ID_TYPE_UNKNOWN', field: 'handler.id_type', zh: expect.stringMatching(/^经办人身份证件类型：/), en: expect.stringMatching(/^Handler's identity document type: must be one of/) });
    expect(refusal('resident_id', '11010519491231002X', 'USA')).toMatchObject({ code: 'ID_COUNTRY_NOT_PASSPORT', field: 'handler.id_country' });
  });
});
