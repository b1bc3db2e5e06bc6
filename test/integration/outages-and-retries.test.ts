// Issue 17 on the real services: an outage is a 503 with Retry-After (not a 500), an application submitted
// while Temporal is down is not orphaned, a retried request whose answer was lost gets the first answer, and
// the readiness probe creates no work. Outages are made by stopping the relay between the web server and the
// service (the service is unreachable from the web, as if stopped), answers lost by a relay that drops them.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { api, createUser, startApp, testConfig, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc } from '../helpers/fixtures';
import { collectedSeal, readySeal, waitForCase } from '../helpers/journeys';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { eventually } from '../helpers/wait';
import { startWebServer } from '../../web/server';
import { personalData } from '../../infra/crypto/personal-data';

let app: RunningApp;
let maker: { id: string; token: string };
let officer: { id: string; token: string };
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  app = await startApp();
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  await app?.stop();
});

/** A second web server of the same stack whose way to one service goes through a relay the test can stop. */
async function webThrough(service: 'temporal' | 'postgresql'): Promise<{ url: string; relay: TcpProxy }> {
  let relay: TcpProxy;
  let env: Record<string, string>;
  if (service === 'temporal') {
    const [host, port] = app.config.temporal.address.split(':');
    relay = await startTcpProxy({ host, port: Number(port) });
    env = { ESEAL_TEMPORAL_ADDRESS: relay.address };
  } else {
    const url = new URL(app.config.runtime.databaseUrl!);
    relay = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    url.host = relay.address;
    env = { DATABASE_URL: url.toString() };
  }
  const web = await startWebServer(testConfig(env), 0);
  cleanup.push(async () => {
    await relay.restore().catch(() => undefined);
    await web.close();
    await relay.close();
  });
  return { url: web.url, relay };
}

const legalNameApplication = (uscc: string) => ({
  holder: { uscc, name: `北京断线测试${uscc.slice(-5)}有限公司`, kind: 'enterprise', address: '北京市海淀区中关村大街27号', district: '110108', legal_representative: '王五' },
  seal: { kind: 'legal_name', language: 'zh' },
  handler: { name: '赵六', id_number: makeResidentId(), phone: '13800138000' },
});

function expectOutage(res: { status: number; body: any }, service: string) {
  expect(res.status).toBe(503);
  expect(res.body.error).toMatchObject({ code: 'service_unavailable', details: { service } });
  expect(res.body.error.message_zh).toMatch(/[\u4e00-\u9fff]/);
  expect(res.body.error.message_en).toMatch(/unreachable/);
}

test('A1: an application submitted while Temporal is stopped answers 503 with Retry-After, leaves nothing behind, and the same submission succeeds once Temporal is back', async () => {
  const { url, relay } = await webThrough('temporal');
  const uscc = makeUscc('110108');
  const body = legalNameApplication(uscc);
  await relay.cut();
  const res = await fetch(`${url}/api/applications`, { method: 'POST', headers: { authorization: `Bearer ${maker.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expectOutage({ status: res.status, body: await res.json() }, 'temporal');
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  // No case row without its workflow: the holder is not blocked by an orphan (A1 allows one live legal-name seal).
  expect(await app.db('cases as c').join('holders as h', 'h.id', 'c.holder_id').where('h.uscc', uscc).select('c.id')).toEqual([]);

  await relay.restore();
  const again = await api(url, maker.token, 'POST', '/api/applications', body);
  expect(again.status).toBe(201);
  await waitForCase(app, maker.token, again.body.id, 'materials_required');
  const desc = await app.temporalClient.workflow.getHandle(`application:${again.body.id}`).describe();
  expect(desc.status.name).toBe('RUNNING');
});

test('PostgreSQL stopped: a request answers 503 naming the database, with Retry-After, and works again once it is back', async () => {
  const { url, relay } = await webThrough('postgresql');
  expect((await api(url, maker.token, 'GET', '/api/tasks')).status).toBe(403); // up: the maker is known, and refused here
  await relay.cut();
  const res = await fetch(`${url}/api/applications`, { method: 'POST', headers: { authorization: `Bearer ${maker.token}`, 'content-type': 'application/json' }, body: JSON.stringify(legalNameApplication(makeUscc('110108'))) });
  expectOutage({ status: res.status, body: await res.json() }, 'postgresql');
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  await relay.restore();
  expect((await api(url, maker.token, 'GET', '/api/tasks')).status).toBe(403);
});

test('M10: a collection whose answer was lost, retried with the same Idempotency-Key, gets the first answer (and is recorded once, as done)', async () => {
  const { caseId, handlerId } = await readySeal(app, maker, officer);
  const web = new URL(app.url);
  const relay = await startTcpProxy({ host: web.hostname, port: Number(web.port) });
  cleanup.push(() => relay.close());
  const request = () =>
    fetch(`http://${relay.address}/api/applications/${caseId}/collection`, {
      method: 'POST',
      headers: { authorization: `Bearer ${maker.token}`, 'content-type': 'application/json', 'idempotency-key': `collect-${caseId}` },
      body: JSON.stringify({ collector_name: '郑十一', collector_id_number: handlerId }),
    });
  relay.dropResponses = true;
  await expect(request()).rejects.toThrow(); // the collection happened; its answer never arrived
  expect(relay.dropped).toBeGreaterThan(0);
  relay.dropResponses = false;

  const retry = await request();
  expect(retry.status).toBe(200);
  expect(retry.headers.get('idempotent-replayed')).toBe('true');
  const view = await retry.json();
  expect(view).toMatchObject({ id: caseId, status: 'collected' });
  expect((await app.db('seals').where({ case_id: caseId }).first('status')).status).toBe('active');
  const audit = await app.db('audit_entries').where({ case_id: caseId, action: 'case.collection' }).select('outcome');
  expect(audit.map((a) => a.outcome)).toEqual(['ok', 'ok']); // the collection and its replay; no refusal

  // The same key for another request is refused naming the header; a malformed key too.
  const other = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/collection`, { collector_name: '别人', collector_id_number: handlerId }, { 'idempotency-key': `collect-${caseId}` });
  expect(other.status).toBe(422);
  expect(other.body.error.fields[0].field).toBe('Idempotency-Key');
  const bad = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/collection`, {}, { 'idempotency-key': 'no spaces allowed' });
  expect(bad.status).toBe(400);
  expect(bad.body.error.fields[0]).toMatchObject({ field: 'Idempotency-Key', message_zh: expect.stringMatching(/幂等键/) });
});

test('M10: without a key, the repeat of a collection (answer lost) is answered as the first, not refused as a contradiction', async () => {
  const { caseId, handlerId } = await readySeal(app, maker, officer);
  const web = new URL(app.url);
  const relay = await startTcpProxy({ host: web.hostname, port: Number(web.port) });
  cleanup.push(() => relay.close());
  const request = () =>
    fetch(`http://${relay.address}/api/applications/${caseId}/collection`, {
      method: 'POST',
      headers: { authorization: `Bearer ${maker.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ collector_name: '郑十一', collector_id_number: handlerId }),
    });
  relay.dropResponses = true;
  await expect(request()).rejects.toThrow();
  relay.dropResponses = false;
  const retry = await request();
  expect(retry.status).toBe(200);
  expect(await retry.json()).toMatchObject({ id: caseId, status: 'collected' });
});

test('/readyz: 50 unauthenticated calls create no workflow run and share one deep check; /healthz touches nothing', async () => {
  const since = new Date(Date.now() - 1000).toISOString();
  const answers = await Promise.all(Array.from({ length: 50 }, () => api(app.url, null, 'GET', '/readyz')));
  expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
  expect(new Set(answers.map((a) => a.body.checked_at)).size).toBe(1);
  expect(answers[0].body.checks.hsm).toMatchObject({ ok: true });
  // Nothing in the namespace was started by the probe (the old probe started a `readyz:` workflow per call).
  const { count } = await app.temporalClient.workflow.count(`WorkflowId STARTS_WITH "readyz:" OR (WorkflowType = "hsmHealthWorkflow" AND StartTime > "${since}")`);
  expect(count).toBe(0);
  expect((await api(app.url, null, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
});

test('A1: case rows left without a workflow (a crash between writing them and starting it, as before workflow first) are started when a web server starts', async () => {
  // The rows as the earlier version wrote them before it died: a submitted case and its seal, no workflow.
  const uscc = makeUscc('110108');
  const caseId = randomUUID();
  const sealId = randomUUID();
  const holderId = randomUUID();
  const pd = personalData({ db: app.db, hsm: app.hsm });
  const handlerId = await pd.protectId(makeResidentId(), { table: 'cases', column: 'handler_id_number', row: caseId });
  const makerId = (await app.db('users').where({ id: maker.id }).first('maker_id')).maker_id;
  await app.db('holders').insert({ id: holderId, uscc, name: `北京孤儿测试${uscc.slice(-5)}有限公司`, kind: 'enterprise', district_code: '110108', address: '北京市海淀区中关村大街27号', legal_representative: '王五', has_superior: false });
  const longAgo = new Date(Date.now() - 5 * 60_000);
  await app.db('cases').insert({
    id: caseId, maker_id: makerId, holder_id: holderId, district_code: '110108', status: 'submitted', newly_established_organ: false, language: 'zh',
    handler_name: '赵六', handler_id_number: handlerId.enc, handler_id_number_hmac: handlerId.hmac, handler_phone: await pd.encrypt('13800138000', { table: 'cases', column: 'handler_phone', row: caseId }),
    created_by: maker.id, created_at: longAgo,
  });
  await app.db('seals').insert({ id: sealId, case_id: caseId, holder_id: holderId, kind: 'legal_name', text: `北京孤儿测试${uscc.slice(-5)}有限公司`, status: 'in_production' });
  await expect(app.temporalClient.workflow.getHandle(`application:${caseId}`).describe()).rejects.toThrow(/not found/i);

  const web = await startWebServer(testConfig(), 0); // its start-up repairs
  cleanup.push(() => web.close());
  await waitForCase(app, maker.token, caseId, 'materials_required');
  expect((await app.temporalClient.workflow.getHandle(`application:${caseId}`).describe()).status.name).toBe('RUNNING');
});

test("the embedded PostgreSQL's own log is kept under the data folder (DATA_DIR/postgres-log), not thrown away", () => {
  const log = readFileSync(path.join(app.config.runtime.dataDir, 'postgres-log', 'postgresql.log'), 'utf8');
  expect(log).toMatch(/database system is ready to accept connections/);
});

test('C3: a password reset requested while Temporal is stopped answers 503 and stores no case; asked again once it is back, its workflow opens the officer\'s task', async () => {
  const { sealId, holderId } = await collectedSeal(app, maker, officer);
  const staff = await createUser(app.db, 'holder', { holder_id: holderId });
  const keeperId = makeResidentId('19880101');
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${sealId}/keepers`, { name: '孙保管', id_number: keeperId })).status).toBe(201);
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${sealId}/password`, { id_number: keeperId, password: 'Tiger#Lake2049x' })).status).toBe(201);

  const { url, relay } = await webThrough('temporal');
  const body = { id_number: keeperId, phone: '13900139000', reason: '保管人遗忘保护口令' };
  await relay.cut();
  expectOutage(await api(url, staff.token, 'POST', `/api/seals/${sealId}/password/reset-requests`, body), 'temporal');
  expect(await app.db('cases').where({ subject_seal_id: sealId, kind: 'password_reset' }).select('id')).toEqual([]);

  await relay.restore();
  const again = await api(url, staff.token, 'POST', `/api/seals/${sealId}/password/reset-requests`, body);
  expect(again.status).toBe(201);
  await waitForCase(app, officer.token, again.body.case_id, 'awaiting_reset_approval');
  // The task follows the status (the workflow projects one, then opens the other).
  await eventually('the officer\'s task', () => app.db('tasks').where({ case_id: again.body.case_id, kind: 'password_reset_approval', status: 'open' }).first('id'), Boolean);
});
