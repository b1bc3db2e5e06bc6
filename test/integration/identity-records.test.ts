// S2 A2 M2 P1 through the JSON API on the real stack: a foreign handler with a passport, a legal
// representative with the 2023 foreign permanent residence card, the maker's check of the original document,
// production data with a schema, and the administrator kept away from the case.
import { randomInt } from 'node:crypto';
import { computeResidentIdCheckCharacter } from '../../domain/resident-id';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeUscc, PNG_BYTES, upload, recentRegistrationDate } from '../helpers/fixtures';
import { waitForCase } from '../helpers/journeys';
import { PRODUCTION_DATA } from '../helpers/production-data';

let app: RunningApp;
let maker: { id: string; token: string };
let officer: { id: string; token: string };
let admin: { id: string; token: string };
let caseId = '';
const passport = `C${String(randomInt(1e7, 1e8))}`; // a German passport number: letter and 8 characters
const first17 = `911276198001${String(randomInt(10, 28))}${String(randomInt(100, 999))}`; // 9, Beijing, DEU (276), born 1980-01-xx
const permanentResidentId = first17 + computeResidentIdCheckCharacter(first17);

beforeAll(async () => {
  app = await startApp({ taskQueueSuffix: '-identity' });
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
  admin = await createUser(app.db, 'admin');
});
afterAll(async () => {
  await app?.stop();
});

const form = (uscc: string, handler: Record<string, unknown>, legalRep: Record<string, unknown>) => ({
  holder: { uscc, name: `北京证件${uscc.slice(-5)}有限公司`, kind: 'enterprise', address: '北京市朝阳区光华路1号', district: '110105' },
  seal: { kind: 'business_contract', language: 'zh' },
  handler: { name: '穆勒', phone: '13800138000', ...handler },
  legal_representative: { name: '施密特', phone: '13900139000', ...legalRep },
});

it('S2 A2 M2: a passport handler and a foreign legal representative are checked by their own rules, named in both languages, stored encrypted and found by keyed hash', async () => {
  const uscc = makeUscc('110105');
  // A pre-registered holder (A3): no materials are needed, so the case goes straight to production.
  const registered = await api(app.url, admin.token, 'POST', '/api/registration/holders', { uscc, name: `北京证件${uscc.slice(-5)}有限公司`, kind: 'enterprise', legal_representative: '施密特', address: '北京市朝阳区光华路1号', district: '110105', registration_date: recentRegistrationDate() });
  expect(registered.status).toBeLessThan(300);
  const bad = await api(app.url, maker.token, 'POST', '/api/applications', form(uscc, { id_type: 'passport', id_number: passport, id_country: 'XX' }, { id_type: 'foreign_permanent_resident_id', id_number: `${first17}${computeResidentIdCheckCharacter(first17) === '0' ? '1' : '0'}` }));
  expect(bad.status).toBe(400);
  expect(bad.body.error.fields).toEqual(expect.arrayContaining([
    expect.objectContaining({ field: 'handler.id_country', message_zh: expect.stringMatching(/^经办人护照签发国家：应为 ISO 3166 国家代码/), message_en: expect.stringMatching(/^Handler's passport issuing country: must be an ISO 3166/) }),
    expect.objectContaining({ field: 'legal_representative.id_number', message_zh: expect.stringContaining('校验码错误'), message_en: expect.stringContaining('check digit is wrong') }),
  ]));
  expect(await app.db('cases as c').join('holders as h', 'h.id', 'c.holder_id').where('h.uscc', uscc).first('c.id')).toBeUndefined(); // nothing stored

  const created = await api(app.url, maker.token, 'POST', '/api/applications', form(uscc, { id_type: 'passport', id_number: passport, id_country: 'de' }, { id_type: 'foreign_permanent_resident_id', id_number: permanentResidentId }));
  expect(created.status).toBe(201);
  caseId = created.body.id;
  const row = await app.db('cases').where({ id: caseId }).first('handler_id_number', 'legal_rep_name', 'legal_rep_id_number', 'legal_rep_id_number_hmac', 'legal_rep_phone');
  expect(row).toMatchObject({ legal_rep_name: '施密特', legal_rep_id_number_hmac: expect.stringMatching(/^[0-9a-f]{64}$/) });
  for (const v of [row.handler_id_number, row.legal_rep_id_number, row.legal_rep_phone]) expect(v).toMatch(/^pd\d:/);
  expect(JSON.stringify(row)).not.toContain(passport);

  // The officer finds the case by the legal representative's card and by the handler's passport (keyed hash).
  const byCard = await api(app.url, officer.token, 'POST', '/api/person-lookups', { id_type: 'foreign_permanent_resident_id', id_number: permanentResidentId });
  expect(byCard.body.records).toEqual([expect.objectContaining({ role: 'legal_representative', case_id: caseId })]);
  const byPassport = await api(app.url, officer.token, 'POST', '/api/person-lookups', { id_type: 'passport', id_number: passport, id_country: 'DEU' });
  expect(byPassport.body.records).toEqual([expect.objectContaining({ case_id: caseId })]);
  // The same number as another document is another person.
  expect((await api(app.url, officer.token, 'POST', '/api/person-lookups', { id_type: 'passport', id_number: passport, id_country: 'AUT' })).body.records).toEqual([]);
});

it("M2: the maker records the check of the handler's original document (who, when, which); another document is refused", async () => {
  const path = `/api/applications/${caseId}/id-checks`;
  const other = await api(app.url, maker.token, 'POST', path, { id_type: 'passport', id_number: passport, id_country: 'AUT' });
  expect(other.status).toBe(422);
  expect(other.body.error.code).toBe('ID_CHECK_NOT_HANDLER');
  const checked = await api(app.url, maker.token, 'POST', path, { id_type: 'passport', id_number: passport, id_country: 'DEU' });
  expect(checked.status).toBe(201);
  expect(checked.body).toMatchObject({ person: 'handler', id_type: 'passport', id_number_masked: `DEU *****${passport.slice(-4)}`, checked_by: { id: maker.id } });
  expect(Date.now() - Date.parse(checked.body.checked_at)).toBeLessThan(60_000);
  expect((await api(app.url, officer.token, 'GET', path)).body.checks).toEqual([checked.body]);
  expect((await api(app.url, admin.token, 'POST', path, { id_number: passport })).status).toBe(403);
});

it('M2: production data has a schema; the platform adds key algorithm, certificate serial and imprint hash; the collector is checked against the passport', async () => {
  await waitForCase(app, maker.token, caseId, 'awaiting_production');
  const image = await upload(app.url, maker.token, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
  const empty = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/production`, { production_data: {}, on_site_image_id: image.body.id });
  expect(empty.status).toBe(400);
  expect(empty.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['production_data.produced_on', 'production_data.operator', 'production_data.medium', 'production_data.device']);
  expect((await app.db('production_records').where({ case_id: caseId })).length).toBe(0);

  expect((await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/production`, { production_data: PRODUCTION_DATA, on_site_image_id: image.body.id })).status).toBeLessThan(300);
  await waitForCase(app, maker.token, caseId, 'awaiting_filing');
  const seal = await app.db('seals').where({ case_id: caseId }).first('certificate_serial', 'imprint_sha256');
  const records = await api(app.url, maker.token, 'GET', `/api/applications/${caseId}/production-records`);
  expect(records.body.versions[0].data).toEqual({ ...PRODUCTION_DATA, key_algorithm: 'ECDSA-P256', certificate_serial: seal.certificate_serial, imprint_sha256: seal.imprint_sha256 });
  expect(seal.certificate_serial).toBeTruthy();
});

it("M3: the filing carries what the case holds (holder, legal representative, handler, ID check, on-site image, production data, seal, certificate), assembled by the platform; the officer's review page shows it, numbers masked", async () => {
  const filed = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/filing`, { note: '现场核验无误' });
  expect(filed.status).toBeLessThan(300);
  const seal = await app.db('seals').where({ case_id: caseId }).first('seal_code', 'certificate_serial', 'imprint_sha256');
  const record = await app.db('production_records').where({ case_id: caseId }).first('id', 'on_site_image_id');
  const f = filed.body.filing;
  expect(f).toMatchObject({
    schema: 'm3-filing/v1',
    holder: { uscc: expect.any(String), district_code: '110105', address: '北京市朝阳区光华路1号' },
    legal_representative: { name: '施密特', id_number_masked: `${'*'.repeat(14)}${permanentResidentId.slice(-4)}`, contact_masked: '139****9000' },
    handler: { name: '穆勒', id_number_masked: `DEU *****${passport.slice(-4)}`, phone_masked: '138****8000' },
    original_id_check: { id_type: 'passport', checked_at: expect.any(String) },
    on_site_image: { material_id: record.on_site_image_id },
    production: { record_id: record.id, version: 1, data: expect.objectContaining({ operator: PRODUCTION_DATA.operator, certificate_serial: seal.certificate_serial }) },
    seal: { seal_code: seal.seal_code, imprint_sha256: seal.imprint_sha256 },
    certificate: { serial: seal.certificate_serial, not_after: expect.any(String) },
    note: '现场核验无误',
  });
  // As recorded (append-only, M5): the filing row holds the same contents and no full number.
  const row = await app.db('filings').where({ id: filed.body.filing_id }).first('data');
  expect(row.data).toEqual(f);
  expect(JSON.stringify(row.data)).not.toContain(passport);
  const res = await fetch(`${app.url}/tasks/${filed.body.task_id}`, { headers: { authorization: `Bearer ${officer.token}` } });
  expect(res.status).toBe(200);
  const html = await res.text();
  for (const shown of [`DEU *****${passport.slice(-4)}`, seal.seal_code, seal.certificate_serial, PRODUCTION_DATA.operator, '现场核验无误', '施密特']) expect(html).toContain(shown);
  expect(html).not.toContain(passport);
  expect(html).not.toContain(permanentResidentId);
  // The officer accepts what was filed (and leaves no open task behind for this file's workers).
  expect((await api(app.url, officer.token, 'POST', `/api/tasks/${filed.body.task_id}/decision`, { decision: 'accept' })).status).toBeLessThan(300);
  await waitForCase(app, maker.token, caseId, 'ready');
});

it('P1: the administrator (IT) reads no case, production record or ID check', async () => {
  for (const p of [`/api/applications/${caseId}`, `/api/applications/${caseId}/production-records`, `/api/applications/${caseId}/id-checks`, '/api/applications']) {
    expect([p, (await api(app.url, admin.token, 'GET', p)).status]).toEqual([p, 403]);
  }
  expect((await api(app.url, admin.token, 'GET', '/api/users')).status).toBe(200); // accounts stay theirs
});
