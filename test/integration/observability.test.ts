// Observability through the product's own path: one case submitted with a request id, and the log lines of
// the web request, the application workflow and its activities (on both workers) all name that request, the
// workflow and the case, and none holds the handler's ID number, phone or the caller's token; then the
// metrics an administrator's Prometheus reads at GET /metrics count that request, the HSM key generation
// and the open filing review, and other roles cannot read them.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, setLogger } from '../../infra/observability/logger';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc, PNG_BYTES, upload, recentRegistrationDate } from '../helpers/fixtures';
import { waitForCase } from '../helpers/journeys';
import { eventually } from '../helpers/wait';
import { PRODUCTION_DATA } from '../helpers/production-data';

type Line = Record<string, unknown>;
const lines: Line[] = [];
const raw: string[] = [];
let app: RunningApp;
let previous: ReturnType<typeof setLogger>;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) {
        raw.push(l);
        lines.push(JSON.parse(l) as Line);
      }
      done();
    },
  });
  previous = setLogger(createLogger(sink, 'debug'));
  app = await startApp();
});
afterAll(async () => {
  await app?.stop();
  if (previous) setLogger(previous);
});

test('one case: its request id, workflow id and case id are on the lines of the request, the workflow and its activities; no ID number, phone or token is logged; /metrics counts it for administrators only', async () => {
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const officer = await createUser(app.db, 'officer', { district_code: '110105' });
  const admin = await createUser(app.db, 'admin');
  const district = '110105';
  const uscc = makeUscc(district);
  const holder = await api(app.url, admin.token, 'POST', '/api/registration/holders', {
    uscc, name: `北京观测${uscc.slice(-5)}有限公司`, kind: 'enterprise', legal_representative: '吴十', address: '北京市朝阳区光华路1号', district, registration_date: recentRegistrationDate(),
  });
  expect(holder.status).toBe(201);
  const handlerId = makeResidentId();
  const handlerPhone = `136${String(Date.now()).slice(-8)}`;
  const requestId = `obs-${randomUUID()}`;
  const res = await fetch(`${app.url}/api/applications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${maker.token}`, 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({
      holder: { uscc, name: holder.body.name, kind: 'enterprise', address: '北京市朝阳区光华路1号', district },
      seal: { kind: 'business_contract', language: 'zh' },
      handler: { name: '郑十一', id_number: handlerId, phone: handlerPhone },
    }),
  });
  expect(res.status).toBe(201);
  expect(res.headers.get('x-request-id')).toBe(requestId);
  const caseId = ((await res.json()) as { id: string }).id;
  await waitForCase(app, maker.token, caseId, 'awaiting_production');
  const image = await upload(app.url, maker.token, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
  expect([200, 202]).toContain((await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/production`, { production_data: PRODUCTION_DATA, on_site_image_id: image.body.id })).status);
  await waitForCase(app, maker.token, caseId, 'awaiting_filing');
  const filed = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/filing`, {});
  expect(filed.status).toBe(201);

  // The submission's lines: the HTTP request's own, the workflow's (SDK logger → pino) and its activities'.
  const mine = lines.filter((l) => l.requestId === requestId);
  const workflowId = `application:${caseId}`;
  expect(mine.find((l) => l.route === '/api/applications')).toMatchObject({ method: 'POST', status: 201, workflowId, caseId });
  expect(mine.find((l) => l.sdkComponent === 'workflow')).toMatchObject({ workflowType: 'applicationWorkflow', workflowId, caseId, msg: 'workflow started' });
  expect(mine.filter((l) => typeof l.activity === 'string').length).toBeGreaterThan(0);
  for (const l of mine) expect([l.msg, l.workflowId, l.caseId]).toEqual([l.msg, workflowId, caseId]);
  // The case's lines, for the README and a reader of the logs (test-artifacts/observability/case-log.jsonl).
  const artifacts = path.resolve(__dirname, '../../test-artifacts/observability');
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(path.join(artifacts, 'case-log.jsonl'), raw.filter((l) => l.includes(caseId)).join('\n') + '\n');
  // A read of the case touches no workflow; its line names the case all the same.
  const readId = `obs-read-${randomUUID()}`;
  expect((await fetch(`${app.url}/api/applications/${caseId}`, { headers: { authorization: `Bearer ${maker.token}`, 'x-request-id': readId } })).status).toBe(200);
  // The request's line is written when the answer has been handed to the socket ('finish'), which may come after
  // the client has read it: wait for it rather than race it.
  const readLine = await eventually('the read request\'s log line', async () => lines.find((l) => l.requestId === readId), (l) => l !== undefined, 5_000);
  expect(readLine).toMatchObject({ method: 'GET', route: '/api/applications/:id', status: 200, caseId });
  // A caller's id that is not a plain token is not echoed or logged: a new one is made.
  for (const given of ['bad id <script>', 'x'.repeat(129)]) {
    const odd = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': given } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  }

  const metrics = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${admin.token}` } });
  expect(metrics.status).toBe(200);
  expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await metrics.text();
  const value = (series: string) => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.split(' ')[1]);
  expect(value('eseal_http_request_duration_seconds_count{method="POST",route="/api/applications",status="201"}')).toBeGreaterThanOrEqual(1);
  expect(value('eseal_hsm_operations_total{kind="generateWrappedEcKeyPair",outcome="ok"}')).toBeGreaterThanOrEqual(1);
  expect(value(`eseal_open_tasks{kind="filing_review",district="${district}"}`)).toBeGreaterThanOrEqual(1);
  expect(text).toMatch(/^# TYPE eseal_overdue_filings gauge$/m);
  expect((await api(app.url, officer.token, 'GET', '/metrics')).status).toBe(403);
  expect((await api(app.url, null, 'GET', '/metrics')).status).toBe(401);

  // Nothing secret in any line of the whole run (P1 C1): not the ID number, the phone or a bearer token.
  const all = raw.join('\n');
  for (const secret of [handlerId, handlerPhone, maker.token, admin.token]) expect(all.includes(secret)).toBe(false);
});
