// A full application to collection on the real dev server, PostgreSQL and SoftHSM2, through the JSON API,
// checked with openssl, pkcs11-tool and pdftotext.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toDerEcdsaSignature } from '../../infra/hsm/hsm';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc, PDF_BYTES, PNG_BYTES, upload } from '../helpers/fixtures';
import { waitForCase } from '../helpers/journeys';
import { heldToken } from '../../infra/hsm/tokens';
import { PRODUCTION_DATA } from '../helpers/production-data';

let app: RunningApp;
let maker: { id: string; token: string };
let otherMaker: { id: string; token: string };
let haidian: { id: string; token: string };
let chaoyang: { id: string; token: string };
let supervisor: { id: string; token: string };

beforeAll(async () => {
  app = await startApp();
  const makerId = await createMaker(app.db);
  maker = await createUser(app.db, 'maker', { maker_id: makerId });
  otherMaker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  haidian = await createUser(app.db, 'officer', { district_code: '110108' });
  chaoyang = await createUser(app.db, 'officer', { district_code: '110105' });
  supervisor = await createUser(app.db, 'supervisor');
});
afterAll(async () => {
  await app?.stop();
});

const waitForStatus = (token: string, caseId: string, status: string, timeoutMs = 30_000) => waitForCase(app, token, caseId, status, timeoutMs);

const application = (uscc: string, sealKind = 'business_contract', handlerId = makeResidentId()) => ({
  holder: { uscc, name: '北京测试（海淀）科技有限公司', kind: 'enterprise', address: '北京市海淀区中关村大街27号', district: '110108', legal_representative: '王五' },
  seal: { kind: sealKind, language: 'zh' },
  handler: { name: '赵六', id_number: handlerId, phone: '13800138000' },
});

test('M2 M3 M4 M10 A1 A2 P3 S3: a contract seal goes from application to collection, filed with the right district', async () => {
  const handlerId = makeResidentId();
  const uscc = makeUscc('110108');
  const created = await api(app.url, maker.token, 'POST', '/api/applications', application(uscc, 'business_contract', handlerId));
  expect(created.status).toBe(201);
  expect(created.body.seal).toMatchObject({ kind: 'business_contract', number: 1, label_zh: '合同专用章(1)' });
  expect(created.body.district_code).toBe('110108');
  const caseId = created.body.id;

  // A2: the case waits for its materials, naming each missing one.
  let view = await waitForStatus(maker.token, caseId, 'materials_required');
  expect(view.missing_materials.map((m: { kind: string }) => m.kind).sort()).toEqual(['establishment_document', 'handler_id_copy', 'legal_rep_authorisation_letter']);
  expect(view.missing_materials[0].label_zh).toMatch(/[\u4e00-\u9fff]/);

  // A file whose name says PDF but whose content is not is refused by content; nothing stored is lost.
  const fake = await upload(app.url, maker.token, caseId, 'establishment_document', Buffer.from('<html>not a pdf</html>'), 'licence.pdf');
  expect(fake.status).toBe(400);
  expect(fake.body.error.fields[0]).toMatchObject({ field: 'file' });
  expect((await upload(app.url, otherMaker.token, caseId, 'handler_id_copy', PDF_BYTES)).status).toBe(403);

  expect((await upload(app.url, maker.token, caseId, 'establishment_document', PDF_BYTES, '营业执照.pdf')).status).toBe(201);
  view = await waitForStatus(maker.token, caseId, 'materials_required');
  expect(view.materials[0].original_name).toBe('营业执照.pdf');
  expect(view.missing_materials).toHaveLength(2);
  expect((await upload(app.url, maker.token, caseId, 'legal_rep_authorisation_letter', PDF_BYTES)).status).toBe(201);
  expect((await upload(app.url, maker.token, caseId, 'handler_id_copy', PNG_BYTES, 'id.png')).status).toBe(201);
  view = await waitForStatus(maker.token, caseId, 'awaiting_production');
  expect(view.materials).toHaveLength(3);

  // M2: production data and the handler's on-site image.
  const image = await upload(app.url, maker.token, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
  expect(image.status).toBe(201);
  const produced = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/production`, { production_data: PRODUCTION_DATA, on_site_image_id: image.body.id });
  expect(produced.status).toBe(200);
  view = await waitForStatus(maker.token, caseId, 'awaiting_filing');
  expect(view.seal.seal_code).toMatch(/^1101080\d{6}$/);
  expect(view.seal.certificate_fingerprint).toMatch(/^[0-9a-f]{64}$/);
  expect(view.filing.due_at).toBeTruthy();
  expect(new Date(view.filing.due_at).getTime() - new Date(view.seal.ready_at ?? Date.now()).getTime()).toBeLessThanOrEqual(24 * 3600_000);

  // M4: the seal certificate chains to the platform CA and carries the seal's identity.
  const seal = await app.db('seals').where({ case_id: caseId }).first();
  const dir = mkdtempSync(path.join(tmpdir(), 'seal-'));
  writeFileSync(path.join(dir, 'seal.der'), seal.certificate_der);
  execFileSync('openssl', ['x509', '-inform', 'DER', '-in', 'seal.der', '-out', 'seal.pem'], { cwd: dir });
  const pki = path.join(app.config.runtime.dataDir, 'pki');
  expect(execFileSync('openssl', ['verify', '-CAfile', path.join(pki, 'root-ca.pem'), '-untrusted', path.join(pki, 'issuing-ca.pem'), 'seal.pem'], { cwd: dir, encoding: 'utf8' }).trim()).toBe('seal.pem: OK');
  const text = execFileSync('openssl', ['x509', '-in', 'seal.pem', '-noout', '-text', '-nameopt', 'utf8'], { cwd: dir, encoding: 'utf8' });
  expect(text).toContain(seal.seal_code);
  expect(text).toContain(uscc);
  expect(text).toContain('合同专用章(1)');
  expect(text).toMatch(/Digital Signature, Non Repudiation/);
  // The private key exists only wrapped under the HSM's AES key, which pkcs11-tool shows as never extractable.
  const keyRow = await app.db('seal_keys').where({ seal_id: seal.id }).first();
  const probe = Buffer.from('M4 probe');
  const sig = await app.issuingHsm.signWithWrappedKey(keyRow.wrapping_key_label, keyRow.wrapped_private_key, probe);
  writeFileSync(path.join(dir, 'probe'), probe);
  writeFileSync(path.join(dir, 'probe.sig'), toDerEcdsaSignature(sig));
  execFileSync('openssl', ['x509', '-in', 'seal.pem', '-pubkey', '-noout', '-out', 'pub.pem'], { cwd: dir });
  expect(execFileSync('openssl', ['dgst', '-sha256', '-verify', 'pub.pem', '-signature', 'probe.sig', 'probe'], { cwd: dir, encoding: 'utf8' }).trim()).toBe('Verified OK');
  const objects = execFileSync('pkcs11-tool', ['--module', app.config.runtime.pkcs11Module, '--token-label', heldToken(app.config, 'issuing').label, '--login', '--pin', heldToken(app.config, 'issuing').pin, '--list-objects', '--type', 'secrkey'], { encoding: 'utf8' });
  const wrapping = objects.split(/\n(?=Secret Key Object)/).find((o) => o.includes('eseal-seal-key-wrapping'))!;
  expect(wrapping).toMatch(/never extractable/);
  expect(wrapping).toMatch(/sensitive/);
  // S3: the imprint's hash is bound to the seal by a platform signature that verifies.
  const binding = await api(app.url, supervisor.token, 'GET', `/api/platform/statements/${seal.imprint_statement_id}`);
  expect(binding.body).toMatchObject({ kind: 'seal.imprint-binding', verified: true, payload: { sealCode: seal.seal_code, imprintSvgSha256: seal.imprint_sha256 } });

  // M3 + P3: the filing lands in Haidian's queue only.
  const filed = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/filing`, { note: '请审核' });
  expect(filed.status).toBe(201);
  expect(filed.body.late).toBe(false);
  const haidianTasks = await api(app.url, haidian.token, 'GET', '/api/tasks');
  expect(haidianTasks.body.map((t: { id: string }) => t.id)).toContain(filed.body.task_id);
  const chaoyangTasks = await api(app.url, chaoyang.token, 'GET', '/api/tasks');
  expect(chaoyangTasks.body.map((t: { id: string }) => t.id)).not.toContain(filed.body.task_id);
  expect((await api(app.url, chaoyang.token, 'GET', `/api/applications/${caseId}`)).status).toBe(403);
  expect((await api(app.url, chaoyang.token, 'POST', `/api/tasks/${filed.body.task_id}/decision`, { decision: 'accept' })).status).toBe(403);

  // Returned with a reason, corrected and filed again, then accepted.
  const noReason = await api(app.url, haidian.token, 'POST', `/api/tasks/${filed.body.task_id}/decision`, { decision: 'return' });
  expect(noReason.status).toBe(400);
  expect(noReason.body.error.fields[0].field).toBe('reason');
  const returned = await api(app.url, haidian.token, 'POST', `/api/tasks/${filed.body.task_id}/decision`, { decision: 'return', reason: '经办人电话有误' });
  expect(returned.status).toBe(200);
  await waitForStatus(maker.token, caseId, 'filing_returned');
  const again = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/filing`, { note: '已更正' });
  expect(again.status).toBe(201);
  // A decision on the old task is refused with the current state named.
  const stale = await api(app.url, haidian.token, 'POST', `/api/tasks/${filed.body.task_id}/decision`, { decision: 'accept' });
  expect(stale.status).toBe(409);
  expect((await api(app.url, haidian.token, 'POST', `/api/tasks/${again.body.task_id}/decision`, { decision: 'accept' })).status).toBe(200);
  view = await waitForStatus(maker.token, caseId, 'ready');
  expect(new Date(view.seal.unclaimed_due_at).getTime()).toBeGreaterThan(Date.now() + 85 * 86400_000);

  // M10: collection checks the handler's ID, then the production certificate is issued.
  const wrongId = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/collection`, { collector_name: '赵六', collector_id_number: makeResidentId('19700101') }); // another birth date: never the handler's
  expect(wrongId.status).toBe(422);
  expect(wrongId.body.error.fields[0].field).toBe('collector_id_number');
  const collected = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/collection`, { collector_name: '赵六', collector_id_number: handlerId });
  expect(collected.status).toBe(200);
  expect(collected.body.status).toBe('collected');
  expect(collected.body.seal.status).toBe('active');

  const holder = await app.db('holders').where({ uscc }).first('id');
  const holderUser = await createUser(app.db, 'holder', { holder_id: holder.id });
  const pdf = await fetch(`${app.url}/api/seals/${seal.id}/documents/production_certificate.pdf`, { headers: { authorization: `Bearer ${holderUser.token}` } });
  expect(pdf.status).toBe(200);
  writeFileSync(path.join(dir, 'cert.pdf'), Buffer.from(await pdf.arrayBuffer()));
  const pdfText = execFileSync('pdftotext', ['cert.pdf', '-'], { cwd: dir, encoding: 'utf8' });
  expect(pdfText).toContain('北京测试（海淀）科技有限公司');
  expect(pdfText).toContain(seal.seal_code);
  const html = await fetch(`${app.url}/api/seals/${seal.id}/documents/production_certificate.html`, { headers: { authorization: `Bearer ${holderUser.token}` } });
  const body = await html.text();
  // Markup never reaches a certificate: names with it are refused at intake (test/unit/seal-text.test.ts);
  // the documents escape whatever they show all the same (test/integration/documents.test.ts).
  expect(body).toContain('北京测试（海淀）科技有限公司');
  // M6/P3: another holder's staff cannot fetch it.
  const otherHolderId = randomUUID();
  await app.db('holders').insert({ id: otherHolderId, uscc: makeUscc('110105'), name: '其他单位', kind: 'enterprise', district_code: '110105', address: '北京市朝阳区' });
  const stranger = await createUser(app.db, 'holder', { holder_id: otherHolderId });
  const other = await fetch(`${app.url}/api/seals/${seal.id}/documents/production_certificate.pdf`, { headers: { authorization: `Bearer ${stranger.token}` } });
  expect(other.status).toBe(403);

  // A1: a second contract seal of the same holder gets number 2.
  const second = await api(app.url, maker.token, 'POST', '/api/applications', application(uscc));
  expect(second.body.seal).toMatchObject({ number: 2, label_zh: '合同专用章(2)' });
});

test('A1: two racing legal-name applications for one holder: exactly one is accepted, the database decides', async () => {
  const uscc = makeUscc('110108');
  const results = await Promise.all([0, 1, 2].map(() => api(app.url, maker.token, 'POST', '/api/applications', application(uscc, 'legal_name'))));
  const statuses = results.map((r) => r.status).sort();
  expect(statuses).toEqual([201, 409, 409]);
  const refused = results.find((r) => r.status === 409)!;
  expect(refused.body.error.message_zh).toMatch(/法定名称章/);
  expect(refused.body.error.message_en).toMatch(/legal-name seal/);
  const seals = await app.db('seals as s').join('holders as h', 'h.id', 's.holder_id').where({ 'h.uscc': uscc, 's.kind': 'legal_name' });
  expect(seals).toHaveLength(1);
});

test('bad input: malformed USCC and ID numbers, unknown district, forbidden seal kind, script in names — all named, nothing stored', async () => {
  const before = await app.db('cases').count<{ count: string }[]>('* as count');
  const res = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc: '91110108MA01ABCDE0', name: '', kind: 'individual_business', address: '北京', district: '110199' },
    seal: { kind: 'branch', text: 'x' },
    handler: { name: '赵六\u202e', id_number: '110105198506120010', phone: '12345' },
  });
  expect(res.status).toBe(400);
  const fields = res.body.error.fields.map((f: { field: string }) => f.field);
  expect(fields).toEqual(expect.arrayContaining(['holder.uscc', 'holder.name', 'holder.district', 'handler.name', 'handler.id_number', 'handler.phone']));
  for (const f of res.body.error.fields) {
    expect(f.message_zh).toMatch(/[\u4e00-\u9fff]/);
    expect(f.message_en).toMatch(/[A-Za-z]/);
  }
  const after = await app.db('cases').count<{ count: string }[]>('* as count');
  expect(after[0].count).toBe(before[0].count);
  // The same submission twice with one Idempotency-Key is one case.
  const uscc = makeUscc('110108');
  const headers = { 'idempotency-key': `dup-${uscc}` };
  const submission = application(uscc, 'business_finance');
  const a = await api(app.url, maker.token, 'POST', '/api/applications', submission, headers);
  const b = await api(app.url, maker.token, 'POST', '/api/applications', submission, headers);
  expect(a.status).toBe(201);
  expect(b.body.id).toBe(a.body.id);
  expect(await app.db('cases').where({ id: a.body.id }).count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
});
