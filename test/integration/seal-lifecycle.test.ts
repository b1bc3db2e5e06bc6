// A seal's life after issue on the real services: suspend, resume, stop, cancel and replace, each processed
// by the maker with the holder's letter (M12), applied by the seal's workflow, and filed with the district.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, PDF_BYTES } from '../helpers/fixtures';
import { collectedSeal, waitForCase } from '../helpers/journeys';

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

  const suspended = await requestChange(sealId, 'suspend', { reason: '公章保管人变动' });
  expect(suspended.status).toBe(201);
  expect(suspended.body.seal_status).toBe('suspended');
  let seal = await app.db('seals').where({ id: sealId }).first();
  expect(seal.status).toBe('suspended');
  expect(seal.hold_since).toBeTruthy();
  expect(seal.revoked_at).toBeNull();
  await fileAndAccept(suspended.body.case_id);

  const resumed = await requestChange(sealId, 'resume');
  expect(resumed.body.seal_status).toBe('active');
  seal = await app.db('seals').where({ id: sealId }).first();
  expect(seal.hold_since).toBeNull();
  await fileAndAccept(resumed.body.case_id);

  const stopped = await requestChange(sealId, 'stop');
  expect(stopped.body.seal_status).toBe('stopped');
  seal = await app.db('seals').where({ id: sealId }).first();
  expect(seal.revoked_at).toBeTruthy();
  expect(seal.revocation_reason).toBe('cessationOfOperation');
  expect(seal.certificate_der).toBeTruthy(); // kept for the archive
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
