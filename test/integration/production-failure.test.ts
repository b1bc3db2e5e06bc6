// Issue 18: a production step that cannot succeed stops the case with a bilingual reason, revokes what was
// issued and leaves the case on the maker's desk, instead of being retried for ever in `producing`; and the
// case workflows carry the DistrictCode and MakerId search attributes the Temporal UI filters by.
import { execFileSync } from 'node:child_process';
import { browserUser } from '../e2e/browser';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc, PNG_BYTES, upload, recentRegistrationDate } from '../helpers/fixtures';
import { waitForCase } from '../helpers/journeys';
import { eventually } from '../helpers/wait';
import { PRODUCTION_DATA } from '../helpers/production-data';

let app: RunningApp;
let makerId: string;
let maker: { id: string; token: string };
let admin: { id: string; token: string };

beforeAll(async () => {
  app = await startApp();
  makerId = await createMaker(app.db);
  maker = await createUser(app.db, 'maker', { maker_id: makerId });
  admin = await createUser(app.db, 'admin');
});
afterAll(async () => {
  await app?.stop();
});

/** An internal-department seal of a pre-registered (A3) holder, waiting for production. */
async function departmentCase(department: string) {
  const uscc = makeUscc('110105');
  const holder = await api(app.url, admin.token, 'POST', '/api/registration/holders', {
    uscc, name: `北京制作失败${uscc.slice(-5)}有限公司`, kind: 'enterprise', legal_representative: '吴十', address: '北京市朝阳区光华路1号', district: '110105', registration_date: recentRegistrationDate(),
  });
  expect(holder.status).toBeLessThan(300);
  const created = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc, name: holder.body.name, kind: 'enterprise', address: '北京市朝阳区光华路1号', district: '110105' },
    seal: { kind: 'internal_department', text: department, language: 'zh' },
    handler: { name: '郑十一', id_number: makeResidentId(), phone: `136${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}` },
  });
  expect(created.status).toBe(201);
  await waitForCase(app, maker.token, created.body.id, 'awaiting_production');
  return created.body.id as string;
}

async function produce(caseId: string) {
  const image = await upload(app.url, maker.token, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
  const res = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/production`, { production_data: PRODUCTION_DATA, on_site_image_id: image.body.id });
  expect(res.status).toBeLessThan(300);
  return res;
}

/** A browser session of a maker of this maker (through the login form); returns a page fetcher. */
async function makerBrowser() {
  const user = await browserUser(app.db, 'maker', { maker_id: makerId });
  const form = await fetch(`${app.url}/login`);
  const token = /eseal_login_csrf=([^;]+)/.exec(form.headers.getSetCookie().join('\n'))![1]!;
  const login = await fetch(`${app.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `eseal_login_csrf=${token}` },
    body: new URLSearchParams({ _csrf: decodeURIComponent(token), username: user.username, password: user.password }),
  });
  expect(login.status).toBe(303);
  const cookie = `eseal_sid=${/eseal_sid=([^;]+)/.exec(login.headers.getSetCookie().join('\n'))![1]!}`;
  return {
    page: async (path: string) => (await fetch(`${app.url}${path}`, { headers: { cookie } })).text(),
    post: (path: string, fields: Record<string, string>) =>
      fetch(`${app.url}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) }),
  };
}

test('S3 M2 (issue 18): a production step that cannot succeed stops the case with a bilingual reason, revokes the certificate already issued and puts the case on the maker\'s desk', async () => {
  const caseId = await departmentCase('综合办公室');
  // A case accepted before intake, imprint and certificate shared one rule: its department name (28
  // characters; the form allowed 40) is longer than any imprint draws. Such cases exist; they must not hang.
  const legacyText = '人口管理和出入境管理支队综合办公室信息化建设科室第一小组';
  expect(Array.from(legacyText)).toHaveLength(28);
  await app.db('seals').where({ case_id: caseId }).update({ text: legacyText });
  await produce(caseId);

  const failed = await waitForCase(app, maker.token, caseId, 'production_failed');
  expect(failed.status_reason).toContain('制作无法完成：内设机构名称：过长（28个字符，最多24个）。已签发的证书已吊销');
  expect(failed.status_reason).toContain('Production cannot be completed: Department name: is too long (28 characters, at most 24). Any certificate issued has been revoked');

  // Not retried: no activity is pending (the workflow waits for the maker), and the imprint was never stored.
  const handle = app.temporalClient.workflow.getHandle(`application:${caseId}`);
  const waiting = await handle.describe();
  expect(waiting.status.name).toBe('RUNNING');
  expect(waiting.raw.pendingActivities ?? []).toEqual([]);
  const seal = await app.db('seals').where({ case_id: caseId }).first('id', 'status', 'certificate_serial', 'revoked_at', 'revocation_reason', 'imprint_sha256', 'cancellation_reason');
  expect(seal).toMatchObject({ status: 'cancelled', cancellation_reason: 'production_failed', revocation_reason: 'cessationOfOperation', imprint_sha256: null });
  expect(seal.certificate_serial).toBeTruthy();
  expect(seal.revoked_at).not.toBeNull();
  expect(await app.db('seal_keys').where({ seal_id: seal.id }).first('wrapped_private_key', 'destroyed_at')).toMatchObject({ wrapped_private_key: null });

  // The certificate is on the CRL the platform serves, read by openssl.
  const crl = Buffer.from(await (await fetch(`${app.url}/pki/crl.der`)).arrayBuffer());
  const text = execFileSync('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], { input: crl }).toString();
  const serial = String(seal.certificate_serial).replace(/^0+/, '').toUpperCase();
  expect(text.toUpperCase().replace(/\s+/g, ' ')).toMatch(new RegExp(`SERIAL NUMBER: 0*${serial}\\b`));

  // The maker sees it first on the desk, marked, with the reason on the case.
  const events = await app.db('case_events').where({ case_id: caseId }).orderBy('id').pluck('type');
  expect(events.slice(-1)).toEqual(['production_failed']);
  const browser = await makerBrowser();
  const desk = await browser.page('/cases');
  expect(desk).toContain('制作失败，待处理');
  expect(desk).toContain(`/cases/${caseId}`);
  const casePage = await browser.page(`/cases/${caseId}`);
  expect(casePage).toContain('制作无法完成：内设机构名称：过长');
  expect(casePage).toContain(`action="/cases/${caseId}/failure-closure"`);

  // The maker's task: tell the holder, then close the case (only the case's maker, and only saying so).
  const other = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  expect((await api(app.url, other.token, 'POST', `/api/applications/${caseId}/failure-closure`, { holder_informed: true })).status).toBe(403);
  const unconfirmed = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/failure-closure`, {});
  expect([unconfirmed.status, unconfirmed.body.error.code, unconfirmed.body.error.fields?.[0]?.field]).toEqual([400, 'invalid_input', 'holder_informed']); // refused by the description (web/openapi.yaml), naming the field
  const csrf = /name="_csrf" value="([^"]+)"/.exec(casePage)![1]!;
  const closed = await browser.post(`/cases/${caseId}/failure-closure`, { _csrf: csrf, holder_informed: 'on' });
  expect(closed.status).toBe(303);
  expect((await api(app.url, maker.token, 'GET', `/api/applications/${caseId}`)).body.status).toBe('production_abandoned');
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  expect((await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/failure-closure`, { holder_informed: true })).status).toBe(409);
  expect(await browser.page('/cases')).not.toContain(`/cases/${caseId}`);
});

test('S3 M2 (issue 18): a name too long for the certificate stops the case before anything is issued', async () => {
  const caseId = await departmentCase('财务部');
  // A holder registered before the rule with a 62-character name: O fits X.509's 64, the seal's CN would not.
  const holderId = (await app.db('cases').where({ id: caseId }).first('holder_id')).holder_id;
  await app.db('holders').where({ id: holderId }).update({ name: `北京${'示范'.repeat(28)}有限公司` });
  // Issue 16.6: the maker's request is answered with the state it led to, not 202 "producing" after a wait.
  const answer = await produce(caseId);
  expect([answer.status, answer.body.status]).toEqual([200, 'production_failed']);
  const failed = await waitForCase(app, maker.token, caseId, 'production_failed');
  expect(failed.status_reason).toContain('单位名称：过长，证书名称不能超过64个字符');
  expect(failed.status_reason).toContain('Holder name: is too long for the certificate (at most 64 characters with the seal\'s label)');
  const seal = await app.db('seals').where({ case_id: caseId }).first('status', 'certificate_serial', 'revoked_at');
  expect(seal).toEqual({ status: 'cancelled', certificate_serial: null, revoked_at: null });
  const closed = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/failure-closure`, { holder_informed: true });
  expect([closed.status, closed.body.status]).toEqual([200, 'production_abandoned']);
});

test('DistrictCode and MakerId (issue 18): an application\'s workflow is found by a visibility query on both, as the Temporal UI filters', async () => {
  const caseId = await departmentCase('财务部');
  const list = async (query: string) => {
    const ids: string[] = [];
    for await (const w of app.temporalClient.workflow.list({ query })) ids.push(w.workflowId);
    return ids;
  };
  const found = await eventually(
    'the case in the visibility store',
    () => list(`DistrictCode = '110105' AND MakerId = '${makerId}'`),
    (ids) => ids.includes(`application:${caseId}`),
  );
  expect(found).toContain(`application:${caseId}`);
  expect(await list(`DistrictCode = '110108' AND MakerId = '${makerId}'`)).not.toContain(`application:${caseId}`);
  const described = await app.temporalClient.workflow.getHandle(`application:${caseId}`).describe();
  expect(described.searchAttributes).toMatchObject({ DistrictCode: ['110105'], MakerId: [makerId] });
});
