// One request through every layer: web → workflow → activity on the HSM task queue signing with a
// key inside the SoftHSM2 token → row in PostgreSQL → read back through the web, then checked with
// openssl, a tool nobody here wrote.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';

let app: RunningApp;
let supervisor: { id: string; token: string };
let officer: { id: string; token: string };

beforeAll(async () => {
  app = await startApp();
  supervisor = await createUser(app.db, 'supervisor');
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
});
afterAll(async () => {
  await app?.stop();
});

test('/healthz answers without touching any service', async () => {
  const res = await api(app.url, null, 'GET', '/healthz');
  expect(res).toEqual({ status: 200, body: { status: 'ok' } });
});

test('/readyz reports Temporal, PostgreSQL and the HSM (session logged in, HSM workers polling) by name', async () => {
  const res = await api(app.url, null, 'GET', '/readyz');
  expect(res.status).toBe(200);
  expect(res.body.ready).toBe(true);
  expect(res.body.checks.temporal).toMatchObject({ ok: true, detail: expect.stringContaining(app.config.temporal.namespace) });
  expect(res.body.checks.postgresql).toMatchObject({ ok: true, detail: expect.stringMatching(/^PostgreSQL \d+/) });
  expect(res.body.checks.hsm).toMatchObject({ ok: true, detail: expect.stringMatching(/logged in to token .*HSM worker\(s\) polling/) });
});

test('a statement is signed in the HSM through a workflow, stored in PostgreSQL and verifies with openssl', async () => {
  const payload = { note: '朝阳区 <script>alert(1)</script>', n: 7 };
  const created = await api(app.url, supervisor.token, 'POST', '/api/platform/statements', { kind: 'foundation.check', payload });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ kind: 'foundation.check', payload, verified: true });

  const row = await app.db('platform_statements').where({ id: created.body.id }).first();
  expect(row).toBeDefined();
  expect(row.requested_by).toBe(supervisor.id);
  expect(row.workflow_id).toBe(`statement:${created.body.id}`);

  const read = await api(app.url, supervisor.token, 'GET', `/api/platform/statements/${created.body.id}`);
  expect(read.status).toBe(200);
  expect(read.body).toEqual(created.body);

  // openssl checks the signature with the certificate's key, and the certificate against the CA chain.
  const dir = mkdtempSync(path.join(tmpdir(), 'stmt-'));
  const canonical = JSON.stringify({ kind: 'foundation.check', payload: { n: 7, note: payload.note } });
  writeFileSync(path.join(dir, 'data'), canonical);
  writeFileSync(path.join(dir, 'sig.der'), Buffer.from(read.body.signature, 'base64'));
  writeFileSync(path.join(dir, 'cert.pem'), read.body.certificate_pem);
  execFileSync('openssl', ['x509', '-in', 'cert.pem', '-pubkey', '-noout', '-out', 'pub.pem'], { cwd: dir });
  const dgst = execFileSync('openssl', ['dgst', '-sha256', '-verify', 'pub.pem', '-signature', 'sig.der', 'data'], { cwd: dir, encoding: 'utf8' });
  expect(dgst.trim()).toBe('Verified OK');
  const pki = path.join(app.config.runtime.dataDir, 'pki');
  const chain = execFileSync('openssl', ['verify', '-CAfile', path.join(pki, 'root-ca.pem'), '-untrusted', path.join(pki, 'issuing-ca.pem'), 'cert.pem'], { cwd: dir, encoding: 'utf8' });
  expect(chain.trim()).toBe('cert.pem: OK');
});

test('the same Idempotency-Key signs once', async () => {
  const body = { kind: 'foundation.idempotent', payload: { a: 1 } };
  const headers = { 'idempotency-key': `k-${Date.now()}` };
  const first = await api(app.url, supervisor.token, 'POST', '/api/platform/statements', body, headers);
  const second = await api(app.url, supervisor.token, 'POST', '/api/platform/statements', body, headers);
  expect(first.status).toBe(201);
  expect(second.body.id).toBe(first.body.id);
  expect(second.body.signature).toBe(first.body.signature);
  const rows = await app.db('platform_statements').where({ id: first.body.id }).count<{ count: string }[]>('* as count');
  expect(Number(rows[0].count)).toBe(1);
});

test('refusals: no login 401, a district officer 403, bad input 400 naming the field in Chinese and English', async () => {
  const before = await app.db('platform_statements').count<{ count: string }[]>('* as count');
  expect((await api(app.url, null, 'POST', '/api/platform/statements', { kind: 'x', payload: {} })).status).toBe(401);
  expect((await api(app.url, officer.token, 'POST', '/api/platform/statements', { kind: 'x', payload: {} })).status).toBe(403);

  const bad = await api(app.url, supervisor.token, 'POST', '/api/platform/statements', { kind: 'Bad Kind!', payload: [] });
  expect(bad.status).toBe(400);
  expect(bad.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['kind', 'payload']);
  for (const f of bad.body.error.fields) {
    expect(f.message_zh).toMatch(/[\u4e00-\u9fff]/);
    expect(f.message_en).toMatch(/[a-z]/);
  }
  const malformed = await api(app.url, supervisor.token, 'POST', '/api/platform/statements', '{"kind":', );
  expect(malformed.status).toBe(400);
  expect(malformed.body.error.code).toBe('malformed_json');
  expect((await api(app.url, supervisor.token, 'GET', '/api/platform/statements/not-a-uuid')).status).toBe(404);

  const after = await app.db('platform_statements').count<{ count: string }[]>('* as count');
  expect(after[0].count).toBe(before[0].count);
});
