// A3: the window of "newly registered" and the rows of the registration authority's batches.
import { sharedRegistrationWaivesMaterials } from '../../domain/materials';
import { parseRegistrationRow } from '../../domain/registration-feed';
import { makeUscc } from '../helpers/fixtures';

const base = { shared: true, registrationDate: '2026-11-04', appliedOn: '2026-12-04', windowDays: 30, sealKind: 'legal_name' as const };

test('A3: materials are waived from the registration day to the last day of the window, not after it, not before registration', () => {
  expect(sharedRegistrationWaivesMaterials(base)).toBe(true); // day 30
  expect(sharedRegistrationWaivesMaterials({ ...base, registrationDate: '2026-12-04' })).toBe(true); // day 0
  expect(sharedRegistrationWaivesMaterials({ ...base, registrationDate: '2026-11-03' })).toBe(false); // day 31
  expect(sharedRegistrationWaivesMaterials({ ...base, registrationDate: '2026-12-05' })).toBe(false); // registered after applying
  expect(sharedRegistrationWaivesMaterials({ ...base, windowDays: 0, registrationDate: '2026-12-04' })).toBe(true);
});

test('A3: only shared registration data, with a date, for public seals (a personal-name seal needs the person\'s documents)', () => {
  expect(sharedRegistrationWaivesMaterials({ ...base, shared: false })).toBe(false);
  expect(sharedRegistrationWaivesMaterials({ ...base, registrationDate: null })).toBe(false);
  expect(sharedRegistrationWaivesMaterials({ ...base, sealKind: 'personal_name' })).toBe(false);
  expect(sharedRegistrationWaivesMaterials({ ...base, sealKind: 'business_finance' })).toBe(true);
});

test('A3: a batch row names its own fields (uscc, registration_date, kind), in Chinese and English', () => {
  const row = { uscc: makeUscc('110105'), name: '北京新设测试科技有限公司', kind: 'enterprise', address: '北京市朝阳区建国路88号', district: '110105', legal_representative: '郑十一', registration_date: '2026-12-01' };
  expect(parseRegistrationRow(JSON.stringify(row), '2026-12-04')).toMatchObject({ ok: true, row: { registrationDate: '2026-12-01', holder: { uscc: row.uscc, districtCode: '110105' } } });
  const bad = parseRegistrationRow(JSON.stringify({ ...row, uscc: 'x', registration_date: '2026-12-05' }), '2026-12-04');
  expect(bad.ok).toBe(false);
  if (bad.ok) return;
  expect(bad.refusals.map((r) => r.field)).toEqual(['uscc', 'registration_date']);
  for (const r of bad.refusals) expect(r.messageZh && r.messageEn).toBeTruthy();
  expect(parseRegistrationRow('[1]', '2026-12-04')).toMatchObject({ ok: false, refusals: [{ field: null, code: 'MALFORMED_JSON' }] });
  const organ = parseRegistrationRow(JSON.stringify({ ...row, kind: 'state_organ' }), '2026-12-04');
  expect(organ).toMatchObject({ ok: false, refusals: [expect.objectContaining({ field: 'kind' })] });
});
