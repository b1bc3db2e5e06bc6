// A seal's life after issue on the real services: suspend, resume, stop, cancel and replace, each processed
// by the maker with the holder's letter (M12), applied by the seal's workflow, and filed with the district.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, PDF_BYTES } from '../helpers/fixtures';
import { collectedSeal, waitForCase } from '../helpers/journeys';
import { sealStatusQuery } from '../../workflows/seal-messages';

let app: RunningApp;
let maker: { id: string; token: string };
let officer: { id: string; token: string };
let otherOfficer: { id: string; token: string };

beforeAll(async () => {
  app = await startApp();
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
  otherOfficer = await createUser(app.db, 'officer', { district_code: '110108' });
});
afterAll(async () => {
  await app?.stop();
});

async function requestChange(sealId: string, kind: string, extra: Record<string, string> = {}, letter: Buffer | null = PDF_BYTES) {
  const form = new FormData();
  const fields: Record<string, string> = { kind, legal_rep_id_number: makeResidentId(), handler_name: '冯十二', handler_id_number: makeResidentId(), handler_phone: '13600136000', ...extra };
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  if (letter) form.set('authorisation_letter', new Blob([letter]), 'letter.pdf');
  const res = await fetch(`${app.url}/api/seals/${sealId}/changes`, { method: 'POST', headers: { authorization: `Bearer ${maker.token}` }, body: form });
  return { status: res.status, body: (await res.json()) as any };
}

/** What `openssl ocsp` (a tool nobody here wrote) says about the seal's certificate, asking our responder. */
async function ocspStatus(sealId: string): Promise<string> {
  const seal = await app.db('seals').where({ id: sealId }).first('certificate_der');
  const dir = mkdtempSync(path.join(tmpdir(), 'ocsp-'));
  writeFileSync(path.join(dir, 'seal.der'), seal.certificate_der);
  execFileSync('openssl', ['x509', '-inform', 'DER', '-in', 'seal.der', '-out', 'seal.pem'], { cwd: dir });
  const pki = path.join(app.config.runtime.dataDir, 'pki');
  writeFileSync(path.join(dir, 'chain.pem'), ['issuing-ca.pem', 'root-ca.pem'].map((f) => readFileSync(path.join(pki, f), 'utf8').trim()).join('\n') + '\n');
  // Asynchronously: the responder is this very process, so a blocking call would wait for itself.
  const { stdout } = await promisify(execFile)('openssl', ['ocsp', '-issuer', path.join(pki, 'issuing-ca.pem'), '-cert', 'seal.pem', '-url', `${app.url}/pki/ocsp`, '-CAfile', 'chain.pem'], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
  return stdout.trim();
}

/** The maker files the change with the district; the district's officer accepts it. */
async function fileAndAccept(caseId: string) {
  await waitForCase(app, maker.token, caseId, 'awaiting_filing');
  const filed = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/filing`, {});
  expect(filed.status).toBe(201);
  expect((await api(app.url, otherOfficer.token, 'POST', `/api/tasks/${filed.body.task_id}/decision`, { decision: 'accept' })).status).toBe(403);
  expect((await api(app.url, officer.token, 'POST', `/api/tasks/${filed.body.task_id}/decision`, { decision: 'accept' })).status).toBe(200);
  await waitForCase(app, maker.token, caseId, 'completed');
}

test('M12 U1: suspend, resume and stop, each filed with the district; a transition the status forbids is refused naming it', async () => {
  const { sealId } = await collectedSeal(app, maker, officer);

  // M12: the holder's authorisation letter is required.
  const noLetter = await requestChange(sealId, 'suspend', {}, null);
  expect(noLetter.status).toBe(400);
  expect(noLetter.body.error.fields.map((f: { field: string }) => f.field)).toContain('authorisation_letter');

  const wrong = await requestChange(sealId, 'resume');
  expect(wrong.status).toBe(409);
  expect(wrong.body.error.message_en).toMatch(/active/);
  expect(wrong.body.error.message_zh).toMatch(/在用/);

  expect(await ocspStatus(sealId)).toMatch(/seal\.pem: good/);
  const suspended = await requestChange(sealId, 'suspend', { reason: '公章保管人变动' });
  expect(suspended.status).toBe(201);
  expect(suspended.body.seal_status).toBe('suspended');
  let seal = await app.db('seals').where({ id: sealId }).first();
  expect(seal.status).toBe('suspended');
  expect(seal.hold_since).toBeTruthy();
  expect(seal.revoked_at).toBeNull();
  expect(await ocspStatus(sealId)).toMatch(/seal\.pem: revoked[\s\S]*Reason: certificateHold/);
  await fileAndAccept(suspended.body.case_id);

  const resumed = await requestChange(sealId, 'resume');
  expect(resumed.body.seal_status).toBe('active');
  seal = await app.db('seals').where({ id: sealId }).first();
  expect(seal.hold_since).toBeNull();
  expect(await ocspStatus(sealId)).toMatch(/seal\.pem: good/);
  await fileAndAccept(resumed.body.case_id);

  const stopped = await requestChange(sealId, 'stop');
  expect(stopped.body.seal_status).toBe('stopped');
  seal = await app.db('seals').where({ id: sealId }).first();
  expect(seal.revoked_at).toBeTruthy();
  expect(seal.revocation_reason).toBe('cessationOfOperation');
  expect(seal.certificate_der).toBeTruthy(); // kept for the archive
  expect(await ocspStatus(sealId)).toMatch(/seal\.pem: revoked[\s\S]*Reason: cessationOfOperation/);
  const again = await requestChange(sealId, 'suspend');
  expect(again.status).toBe(409);
  expect(again.body.error.message_en).toMatch(/stopped/);

  const view = await api(app.url, maker.token, 'GET', `/api/seals/${sealId}`);
  expect(view.body.requests.map((r: { kind: string; status: string }) => `${r.kind}:${r.status}`)).toEqual(
    expect.arrayContaining(['suspend:completed', 'resume:completed', 'resume:refused', 'suspend:refused']),
  );
});

test('M13: cancellation destroys the key, revokes the certificate, gives a cancellation certificate and is filed', async () => {
  const { sealId } = await collectedSeal(app, maker, officer);
  const cancelled = await requestChange(sealId, 'cancel', { reason: '单位注销' });
  expect(cancelled.status).toBe(201);
  expect(cancelled.body.seal_status).toBe('cancelled');
  const seal = await app.db('seals').where({ id: sealId }).first();
  expect(seal.status).toBe('cancelled');
  expect(seal.revoked_at).toBeTruthy();
  const key = await app.db('seal_keys').where({ seal_id: sealId }).first();
  expect(key.wrapped_private_key).toBeNull();
  expect(key.destroyed_at).toBeTruthy();

  const pdf = await fetch(`${app.url}/api/seals/${sealId}/documents/cancellation_certificate.pdf`, { headers: { authorization: `Bearer ${maker.token}` } });
  expect(pdf.status).toBe(200);
  const dir = mkdtempSync(path.join(tmpdir(), 'cancel-'));
  writeFileSync(path.join(dir, 'c.pdf'), Buffer.from(await pdf.arrayBuffer()));
  const text = execFileSync('pdftotext', ['c.pdf', '-'], { cwd: dir, encoding: 'utf8' });
  expect(text).toContain(seal.seal_code);
  expect(text).toContain('持有单位申请');
  await fileAndAccept(cancelled.body.case_id);
  // Issue 16 point 2: the certificate the holder keeps states nothing that the accepted filing made false
  // (it said 备案中 / Filing in progress for ever); the filing's progress is the case's record.
  const html = await (await fetch(`${app.url}/api/seals/${sealId}/documents/cancellation_certificate.html`, { headers: { authorization: `Bearer ${maker.token}` } })).text();
  expect(html).toContain('电子印章登出证书');
  expect(html).not.toContain('备案中');
  expect(html).not.toContain('Filing in progress');
  expect((await requestChange(sealId, 'cancel')).status).toBe(409);
});

test('M11: a replacement cancels the old seal and starts a new application pre-filled from it, keeping the number', async () => {
  const { sealId, caseId } = await collectedSeal(app, maker, officer, { sealKind: 'business_finance' });
  const old = await app.db('seals').where({ id: sealId }).first();
  const replaced = await requestChange(sealId, 'replace', { replacement_reason: 'damaged' });
  expect(replaced.status).toBe(201);
  expect(replaced.body.replacement_case_id).toBeTruthy();
  expect((await app.db('seals').where({ id: sealId }).first()).status).toBe('cancelled');
  const next = await waitForCase(app, maker.token, replaced.body.replacement_case_id, 'awaiting_production');
  expect(next.seal).toMatchObject({ kind: 'business_finance', number: old.number });
  const newSeal = await app.db('seals').where({ case_id: replaced.body.replacement_case_id }).first();
  expect(newSeal.replaces_seal_id).toBe(sealId);
  expect(newSeal.id).not.toBe(sealId);
  expect(caseId).not.toBe(replaced.body.replacement_case_id);
  const missing = await requestChange(sealId, 'replace', { replacement_reason: 'bored' });
  expect(missing.status).toBe(400);
  expect(missing.body.error.fields.map((f: { field: string }) => f.field)).toContain('replacement_reason');
});

test('C1 C2 C3 P3: keepers and the protection password on a live seal; a reset goes through the district officer and a one-time link', async () => {
  const { sealId, holderId } = await collectedSeal(app, maker, officer);
  const staff = await createUser(app.db, 'holder', { holder_id: holderId });
  const keeperId = makeResidentId('19800101');
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${sealId}/keepers`, { name: '陈保管', id_number: keeperId })).status).toBe(201);
  const set = await api(app.url, staff.token, 'POST', `/api/seals/${sealId}/password`, { id_number: keeperId, password: 'Tiger#Lake2049x' });
  expect(set.status).toBe(201);
  // The seal's workflow now times the expiry reminders from this password.
  const sealHandle = () => app.temporalClient.workflow.getHandle(`seal:${sealId}`);
  const status = await sealHandle().query(sealStatusQuery);
  expect(status.passwordExpiresAt).toBe(new Date(set.body.expires_at).toISOString());

  const requested = await api(app.url, staff.token, 'POST', `/api/seals/${sealId}/password/reset-requests`, { id_number: keeperId, phone: '13500135000', reason: '保管人遗忘口令' });
  expect(requested.status).toBe(201);
  const caseId = requested.body.case_id;
  const task = await (async () => {
    for (let i = 0; i < 100; i++) {
      const tasks = await api(app.url, officer.token, 'GET', '/api/tasks?kind=password_reset_approval');
      const t = tasks.body.find((x: { case_id: string }) => x.case_id === caseId);
      if (t) return t;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no reset task');
  })();
  expect((await api(app.url, otherOfficer.token, 'GET', '/api/tasks?kind=password_reset_approval')).body.map((t: { case_id: string }) => t.case_id)).not.toContain(caseId);
  const approved = await api(app.url, officer.token, 'POST', `/api/tasks/${task.id}/decision`, { decision: 'accept' });
  expect(approved.status).toBe(200);
  expect(approved.body.case_status).toBe('completed'); // the state the approval led to (issue 16.6)
  await waitForCase(app, staff.token, caseId, 'completed');

  // C3: the approval hands nobody a link: the holder's message points to the inbox's way to a one-time link
  // (minted when opened; the page is test/e2e/password-reset.test.ts), and holds no token.
  expect(approved.body.reset_link).toBeUndefined();
  const message = await app.db('outbox_messages').where({ seal_id: sealId, kind: 'password_reset_link' }).first();
  expect(message.link_path).toBe(`/password-reset/cases/${caseId}`);
  expect(message.body).not.toMatch(/password-reset\/[A-Za-z0-9_-]{20,}/);
  expect(await app.db('password_reset_grants').where({ case_id: caseId }).first('seal_id')).toEqual({ seal_id: sealId });
});
