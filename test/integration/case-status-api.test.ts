// GET /api/applications/{id}/status: a client follows a case's state without reading its personal data.
// On the real stack: the long-poll answers when the workflow moves the case, scope as the case view (P3),
// a bad wait_for is refused naming the field in Chinese and English, and no read lands in the audit (M6).
import { createMaker, makeResidentId, makeUscc, PNG_BYTES, upload, recentRegistrationDate } from '../helpers/fixtures';
import { waitForCase } from '../helpers/journeys';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { PRODUCTION_DATA } from '../helpers/production-data';

const DISTRICT = '110105';
let app: RunningApp;
let maker: { id: string; token: string };
let otherMaker: { id: string; token: string };
let officer: { id: string; token: string };
let otherOfficer: { id: string; token: string };
let caseId = '';

beforeAll(async () => {
  app = await startApp();
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  otherMaker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: DISTRICT });
  otherOfficer = await createUser(app.db, 'officer', { district_code: '110108' });
  const admin = await createUser(app.db, 'admin');
  const uscc = makeUscc(DISTRICT);
  const holder = await api(app.url, admin.token, 'POST', '/api/registration/holders', {
    uscc, name: `北京状态跟踪${uscc.slice(-5)}有限公司`, kind: 'enterprise', legal_representative: '吴十', address: '北京市朝阳区光华路1号', district: DISTRICT, registration_date: recentRegistrationDate(),
  });
  expect(holder.status).toBe(201);
  const created = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc, name: holder.body.name, kind: 'enterprise', address: '北京市朝阳区光华路1号', district: DISTRICT },
    seal: { kind: 'business_contract', language: 'zh' },
    handler: { name: '郑十一', id_number: makeResidentId(), phone: '13700137000' },
  });
  expect(created.status).toBe(201);
  caseId = created.body.id;
  await waitForCase(app, maker.token, caseId, 'awaiting_production');
});
afterAll(async () => {
  await app?.stop();
});

const status = (token: string, query = '') => api(app.url, token, 'GET', `/api/applications/${caseId}/status${query}`);

test('the long-poll answers as soon as the workflow moves the case to the status waited for, with the seal and no personal data', async () => {
  const before = await status(maker.token);
  expect(before.status).toBe(200);
  expect(before.body).toMatchObject({ id: caseId, kind: 'application', status: 'awaiting_production', tasks: [] });
  expect(before.body.seal).toMatchObject({ id: expect.any(String) });

  const start = Date.now();
  const waiting = status(maker.token, '?wait_for=awaiting_filing&timeout_ms=20000');
  await new Promise((r) => setTimeout(r, 500)); // the request is waiting before the case moves
  const image = await upload(app.url, maker.token, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
  const produced = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/production`, { production_data: PRODUCTION_DATA, on_site_image_id: image.body.id });
  expect(produced.status).toBe(200);
  const res = await waiting;
  const waited = Date.now() - start;
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('awaiting_filing');
  expect(waited).toBeGreaterThanOrEqual(500);
  expect(waited).toBeLessThan(20_000);
  expect(res.body.seal).toEqual({ id: before.body.seal.id, seal_code: expect.any(String), status: expect.any(String) });
  // Nothing about the holder or the handler: no names, ID numbers or phones.
  expect(JSON.stringify(res.body)).not.toMatch(/郑十一|13700137000|北京状态跟踪|holder|handler|materials|events/);
});

test('the task opened by the filing is listed by id, and the officer of the district follows the case to ready', async () => {
  const filed = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/filing`, {});
  expect(filed.status).toBe(201);
  const seen = await status(officer.token, '?wait_for=filing_under_review&timeout_ms=5000');
  expect(seen.body).toMatchObject({ status: 'filing_under_review', tasks: [{ id: filed.body.task_id, kind: 'filing_review', status: 'open' }] });
  const decided = await api(app.url, officer.token, 'POST', `/api/tasks/${filed.body.task_id}/decision`, { decision: 'accept' });
  expect(decided.status).toBe(200);
  expect(decided.body).toMatchObject({ task_id: filed.body.task_id, decision: 'accept', case_id: caseId });
  const ready = await status(officer.token, '?wait_for=ready&timeout_ms=20000');
  expect(ready.body).toMatchObject({ status: 'ready', tasks: [{ id: filed.body.task_id, status: 'done' }] });
});

test('a wait that times out answers with the status at that moment after timeout_ms', async () => {
  const start = Date.now();
  const res = await status(maker.token, '?wait_for=collected&timeout_ms=600');
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('ready');
  expect(Date.now() - start).toBeGreaterThanOrEqual(550);
});

test('P3: another maker, an officer of another district and a stranger holder get 403; a bad id 404', async () => {
  const other = await status(otherMaker.token);
  expect(other.status).toBe(403);
  expect(other.body.error).toMatchObject({ message_zh: expect.stringContaining('不属于'), message_en: expect.stringContaining('another maker') });
  expect((await status(otherOfficer.token)).status).toBe(403);
  expect((await status(otherMaker.token, '?wait_for=collected&timeout_ms=20000')).status).toBe(403); // refused before any wait
  expect((await api(app.url, maker.token, 'GET', '/api/applications/not-a-case/status')).status).toBe(404);
});

test('a bad wait_for or timeout_ms is a 400 naming the field in Chinese and English', async () => {
  const bad = await status(maker.token, '?wait_for=done');
  expect(bad.status).toBe(400);
  expect(bad.body.error.fields).toEqual([expect.objectContaining({ field: 'wait_for', message_zh: expect.stringContaining('等待的案件状态'), message_en: expect.stringContaining('Case status to wait for') })]);
  const tooLong = await status(maker.token, '?wait_for=ready&timeout_ms=60000');
  expect(tooLong.status).toBe(400);
  expect(tooLong.body.error.fields).toEqual([expect.objectContaining({ field: 'timeout_ms', message_zh: expect.stringContaining('等待时长'), message_en: expect.stringContaining('Wait time') })]);
});

test('M6: following a case writes no audit entry (it reads no personal data); the case view still does', async () => {
  const count = async () => Number((await app.db('audit_entries').where({ case_id: caseId, action: 'case.read' }).count<{ c: string }[]>('* as c'))[0].c);
  const before = await count();
  for (let i = 0; i < 3; i++) expect((await status(maker.token)).status).toBe(200);
  expect(await count()).toBe(before);
  expect((await api(app.url, maker.token, 'GET', `/api/applications/${caseId}`)).status).toBe(200);
  expect(await count()).toBe(before + 1);
});
