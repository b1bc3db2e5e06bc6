// P1, personal data at rest: ID numbers, phones, on-site images and materials are stored encrypted under
// data keys wrapped by a key that never leaves the HSM. Checked from outside: `pg_dump` of the whole
// database, the files in the blob store and the workflow histories hold none of them in clear; lookups by
// ID number still work (keyed hash), authorised readers still see the clear values, and every read is logged.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc, PDF_BYTES, PNG_BYTES, upload } from '../helpers/fixtures';
import { collectedSeal, readySeal } from '../helpers/journeys';
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { encryptedBlobSize, personalData, PERSONAL_DATA_KEK_LABEL } from '../../infra/crypto/personal-data';
import { backfillMaterialFiles, backfillPersonalData, encryptLegacyPersonalData } from '../../infra/crypto/backfill';
import { maskResidentId } from '../../domain/resident-id';
import { blobStoreFromConfig } from '../../infra/blobs';

let app: RunningApp;
let maker: { id: string; token: string };
let officer: { id: string; token: string };
let otherOfficer: { id: string; token: string };
let supervisor: { id: string; token: string };

beforeAll(async () => {
  app = await startApp();
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
  otherOfficer = await createUser(app.db, 'officer', { district_code: '110108' });
  supervisor = await createUser(app.db, 'supervisor');
});
afterAll(async () => {
  await app?.stop();
});

/** The whole database as `pg_dump` (PostgreSQL's own tool) writes it: schema and every row. */
async function pgDump(): Promise<string> {
  const url = process.env.DATABASE_OWNER_URL || app.config.runtime.databaseUrl!;
  const { stdout } = await promisify(execFile)('pg_dump', ['--no-owner', '--dbname', url], { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  return stdout;
}

/** Every payload of a workflow's history, decoded as text (payload data is bytes in the history). */
async function historyText(workflowId: string): Promise<string> {
  const history = await app.temporalClient.workflow.getHandle(workflowId).fetchHistory();
  const parts: string[] = [];
  const walk = (v: unknown) => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    else if (typeof v === 'string') parts.push(v);
  };
  walk(history);
  return parts.join('\n');
}

async function requestChange(sealId: string, fields: Record<string, string>) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('authorisation_letter', new Blob([PDF_BYTES]), 'letter.pdf');
  const res = await fetch(`${app.url}/api/seals/${sealId}/changes`, { method: 'POST', headers: { authorization: `Bearer ${maker.token}` }, body: form });
  return { status: res.status, body: (await res.json()) as any };
}

test('P1: after a full application, pg_dump, the blob files and the workflow histories hold no ID number, phone or image in clear; lookup by ID number still finds the records', async () => {
  // A whole application to collection (handler's ID and phone, on-site image), a keeper, a change request
  // (legal representative's ID, handler's phone, authorisation letter) and a personal-name seal application.
  const s = await collectedSeal(app, maker, officer);
  const holder = await createUser(app.db, 'holder', { holder_id: s.holderId });
  const keeperId = makeResidentId('19900101');
  expect((await api(app.url, holder.token, 'POST', `/api/seals/${s.sealId}/keepers`, { name: '钱保管', id_number: keeperId })).status).toBe(201);
  const legalRepId = makeResidentId('19700303');
  const changeHandlerId = makeResidentId('19800404');
  const change = await requestChange(s.sealId, { kind: 'suspend', legal_rep_id_number: legalRepId, handler_name: '冯十二', handler_id_number: changeHandlerId, handler_phone: '13611112222' });
  expect(change.status).toBe(201);
  const personId = makeResidentId('19751212');
  const personal = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc: s.uscc, name: s.view.holder.name, kind: 'enterprise', address: '北京市朝阳区光华路1号', district: '110105' },
    seal: { kind: 'personal_name', language: 'zh', person: { name: '王个人', id_number: personId, role: 'legal_representative' } },
    handler: { name: '郑十一', id_number: s.handlerId, phone: s.handlerPhone },
  });
  expect(personal.status).toBe(201);
  const secrets = [s.handlerId, s.handlerPhone, keeperId, legalRepId, changeHandlerId, '13611112222', personId];

  // The database dump: none of them, in any table (cases, seals, keepers, audit entries, timeline, …).
  const dump = await pgDump();
  expect(dump).toContain(s.caseId); // the dump is of this database …
  expect(dump).toContain('钱保管'); // … with the rows' contents (names are not in P1's list and stay in clear)
  expect(secrets.filter((x) => dump.includes(x))).toEqual([]);
  const stored = await app.db('cases').where({ id: s.caseId }).first('handler_id_number', 'handler_phone', 'handler_id_number_hmac');
  expect(stored.handler_id_number).toMatch(/^pd2:/);
  expect(stored.handler_phone).toMatch(/^pd2:/);
  expect(stored.handler_id_number_hmac).toMatch(/^[0-9a-f]{64}$/);

  // The blob store: the on-site image and the letter are ciphertext on disk; the maker reads them back in clear.
  const blobs = await app.db('materials').whereIn('case_id', [s.caseId, change.body.case_id]).select('id', 'kind', 'blob_sha256');
  expect(blobs.map((b) => b.kind).sort()).toEqual(['holder_authorisation_letter', 'on_site_image']);
  for (const b of blobs) {
    const onDisk = await readFile(path.join(app.config.runtime.dataDir, 'blobs', b.blob_sha256.slice(0, 2), b.blob_sha256));
    const clear = b.kind === 'on_site_image' ? PNG_BYTES : PDF_BYTES;
    expect(onDisk.includes(clear.subarray(0, 16))).toBe(false);
    const res = await fetch(`${app.url}/api/materials/${b.id}`, { headers: { authorization: `Bearer ${maker.token}` } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(clear)).toBe(true);
  }

  // Temporal's histories are at rest too: the workflows carry record ids, never the ID numbers or phones.
  const histories = (await Promise.all([`application:${s.caseId}`, `seal:${s.sealId}`, `change:${change.body.case_id}`].map(historyText))).join('\n');
  expect(histories).toContain(s.caseId);
  expect(secrets.filter((x) => histories.includes(x))).toEqual([]);

  // The data keys are stored only wrapped; the key that wraps them never leaves the HSM.
  const keys = await app.db('personal_data_keys').select('purpose', 'kek_label', 'wrapped_key');
  expect(keys.some((k) => k.purpose === 'lookup')).toBe(true);
  expect(keys.every((k) => k.kek_label === PERSONAL_DATA_KEK_LABEL && k.wrapped_key.length === 40)).toBe(true);
  expect(await app.hsm.keyAttributes(PERSONAL_DATA_KEK_LABEL)).toEqual({ sensitive: true, extractable: false, neverExtractable: true, alwaysSensitive: true });

  // Lookup by ID number (keyed hash): the officer of the district finds each person's records.
  const lookup = (token: string, id: unknown) => api(app.url, token, 'POST', '/api/person-lookups', { id_number: id });
  const asHandler = await lookup(officer.token, s.handlerId);
  expect(asHandler.status).toBe(200);
  expect(asHandler.body.records).toEqual(expect.arrayContaining([expect.objectContaining({ role: 'handler', case_id: s.caseId, holder: expect.objectContaining({ id: s.holderId }), seal: expect.objectContaining({ id: s.sealId }) })]));
  expect((await lookup(officer.token, keeperId)).body.records).toEqual([expect.objectContaining({ role: 'keeper', current: true, seal: expect.objectContaining({ id: s.sealId }) })]);
  expect((await lookup(supervisor.token, legalRepId)).body.records).toEqual([expect.objectContaining({ role: 'legal_representative', case_id: change.body.case_id })]);
  expect((await lookup(officer.token, personId)).body.records).toEqual([expect.objectContaining({ role: 'seal_person', case_id: personal.body.id })]);
  expect((await lookup(officer.token, makeResidentId('19991231'))).body.records).toEqual([]);
  // P3: another district's officer finds nothing of this district; makers and holders may not look up.
  expect((await lookup(otherOfficer.token, s.handlerId)).body.records).toEqual([]);
  expect((await lookup(maker.token, s.handlerId)).status).toBe(403);
  expect((await lookup(holder.token, keeperId)).status).toBe(403);
  // A bad ID number is refused naming the field in Chinese and English.
  const bad = await lookup(officer.token, '110105198506120000');
  expect(bad.status).toBe(400);
  expect(bad.body.error.fields).toEqual([expect.objectContaining({ field: 'id_number', message_zh: expect.stringContaining('身份证件号码'), message_en: expect.stringContaining('identity document number') })]);

  // Authorised readers see the clear values (masked where the API masks them) …
  const casePage = (token: string) => fetch(`${app.url}/cases/${s.caseId}`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.status, html: await r.text() }));
  const shown = await casePage(officer.token);
  expect(shown.status).toBe(200);
  expect(shown.html).toContain(s.handlerPhone);
  const refused = await casePage(otherOfficer.token);
  expect(refused.status).toBe(403);
  expect(refused.html).not.toContain(s.handlerPhone);
  const keepers = await api(app.url, officer.token, 'GET', `/api/seals/${s.sealId}/keepers`);
  expect(keepers.body.keepers).toEqual([expect.objectContaining({ name: '钱保管', id_number_masked: maskResidentId(keeperId) })]);
  // … and every read of personal data is in the audit trail, the lookups without the ID number.
  const entries = await app.db('audit_entries').whereIn('actor_user_id', [officer.id, supervisor.id, maker.id]).select('action', 'actor_user_id', 'target_type', 'target_id', 'case_id');
  const actions = (user: string) => entries.filter((e) => e.actor_user_id === user).map((e) => e.action);
  expect(actions(officer.id).filter((a) => a === 'person.lookup')).toHaveLength(4);
  expect(actions(supervisor.id)).toContain('person.lookup');
  expect(actions(officer.id)).toContain('keeper.list');
  expect(entries).toContainEqual(expect.objectContaining({ action: 'case.read', actor_user_id: officer.id, case_id: s.caseId })); // the case page with the phone
  expect(entries.filter((e) => e.action === 'material.read' && e.actor_user_id === maker.id).map((e) => e.target_id).sort()).toEqual(blobs.map((b) => b.id).sort());
  expect(JSON.stringify(entries)).not.toContain(s.handlerId);
});

test('P1: the collection check and the keeper checks compare ID numbers through the encryption (wrong collector refused, same keeper twice refused)', async () => {
  const handlerId = makeResidentId('19860101');
  const { caseId } = await readySeal(app, maker, officer, { handlerId });
  const wrong = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/collection`, { collector_name: '郑十一', collector_id_number: makeResidentId('19860102') });
  expect(wrong.status).toBe(422);
  expect(wrong.body.error.code).toBe('COLLECTOR_NOT_HANDLER');
  const ok = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/collection`, { collector_name: '郑十一', collector_id_number: handlerId });
  expect(ok.body.status).toBe('collected');

  const holder = await createUser(app.db, 'holder', { holder_id: ok.body.holder.id });
  const keeperId = makeResidentId('19910101');
  expect((await api(app.url, holder.token, 'POST', `/api/seals/${ok.body.seal.id}/keepers`, { name: '孙保管', id_number: keeperId })).status).toBe(201);
  const twice = await api(app.url, holder.token, 'POST', `/api/seals/${ok.body.seal.id}/keepers`, { name: '孙保管', id_number: keeperId });
  expect(twice.status).toBe(409);
  expect(twice.body.error.code).toBe('KEEPER_EXISTS');
  const removed = await api(app.url, holder.token, 'DELETE', `/api/seals/${ok.body.seal.id}/keepers`, { id_number: keeperId });
  expect(removed.status).toBe(200);
  expect(removed.body.id_number_masked).toBe(maskResidentId(keeperId));
});

/** The store the app uses (the same files). */
const blobs = () => blobStoreFromConfig(app.config);

/** A value and a file as the first version of P1 wrote them: one fixed label, not bound to their place. */
async function v1Encrypt(value: string): Promise<string> {
  const { key, id } = await someDataKey();
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from('eseal-personal-data-v1'));
  const ct = Buffer.concat([c.update(value, 'utf8'), c.final()]);
  return `pd1:${id}:${Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64')}`;
}
async function v1EncryptFile(bytes: Buffer): Promise<Buffer> {
  const { key, id } = await someDataKey();
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from('eseal-personal-data-v1'));
  const ct = Buffer.concat([c.update(bytes), c.final()]);
  return Buffer.concat([Buffer.from('ESPD1\n', 'latin1'), Buffer.from(id.replace(/-/g, ''), 'hex'), iv, ct, c.getAuthTag()]);
}
async function someDataKey(): Promise<{ id: string; key: Buffer }> {
  await personalData(app).encrypt('x', { table: 't', column: 'c' }); // makes sure a data key exists
  const row = await app.db('personal_data_keys').where({ purpose: 'data' }).orderBy('created_at', 'desc').first('id', 'kek_label', 'wrapped_key');
  return { id: row.id, key: await app.hsm.unwrapDataKey(row.kek_label, row.wrapped_key) };
}

test('P1: values stored in clear or in the first format (one fixed label) are brought to the bound format by the backfill (npm run personal-data:encrypt) and found by lookup; a tampered value is refused, never read wrongly', async () => {
  // A case and keeper as older versions stored them: ID number and phone in clear without keyed hash, or `pd1:`.
  const makerId = (await app.db('users').where({ id: maker.id }).first('maker_id')).maker_id;
  const holderId = randomUUID();
  await app.db('holders').insert({ id: holderId, uscc: makeUscc('110105'), name: '北京旧数据测试有限公司', kind: 'enterprise', district_code: '110105', address: '北京市朝阳区' });
  const caseId = randomUUID();
  const oldId = makeResidentId('19600606');
  const legalRepId = makeResidentId('19620808');
  await app.db('cases').insert({ id: caseId, maker_id: makerId, holder_id: holderId, district_code: '110105', status: 'collected', language: 'zh', handler_name: '旧', handler_id_number: oldId, handler_phone: '13512345678', legal_rep_id_number: await v1Encrypt(legalRepId), created_by: maker.id });
  const sealId = randomUUID();
  await app.db('seals').insert({ id: sealId, case_id: caseId, holder_id: holderId, kind: 'business_contract', number: 1, text: '北京旧数据测试有限公司', status: 'active' });
  const keeperId = makeResidentId('19610707');
  await app.db('seal_keepers').insert({ id: randomUUID(), seal_id: sealId, name: '旧保管', id_number: keeperId });
  // Files: one stored in clear, one in the first encrypted format (its tag last, one fixed label).
  const clearFile = await blobs().put(PDF_BYTES);
  const v1File = await blobs().put(await v1EncryptFile(PNG_BYTES));
  await app.db('blobs').insert([{ sha256: clearFile.sha256, content_type: 'application/pdf', size: PDF_BYTES.length }, { sha256: v1File.sha256, content_type: 'image/png', size: PNG_BYTES.length }]).onConflict('sha256').ignore();
  const [clearMaterial, v1Material] = [randomUUID(), randomUUID()];
  await app.db('materials').insert([
    { id: clearMaterial, case_id: caseId, kind: 'establishment_document', original_name: 'old.pdf', blob_sha256: clearFile.sha256, uploaded_by: maker.id },
    { id: v1Material, case_id: caseId, kind: 'on_site_image', original_name: 'old.png', blob_sha256: v1File.sha256, uploaded_by: maker.id },
  ]);
  const readMaterial = async (id: string) => {
    const res = await fetch(`${app.url}/api/materials/${id}`, { headers: { authorization: `Bearer ${maker.token}` } });
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
  };
  // Both formats stay readable until the backfill has run.
  expect((await readMaterial(clearMaterial)).bytes.equals(PDF_BYTES)).toBe(true);
  expect((await readMaterial(v1Material)).bytes.equals(PNG_BYTES)).toBe(true);
  const lookup = (id: string) => api(app.url, supervisor.token, 'POST', '/api/person-lookups', { id_number: id });
  expect((await lookup(oldId)).body.records).toEqual([]); // no hash yet: not findable
  expect(await pgDump()).toContain(oldId); // the dump check does see a value stored in clear

  const counts = await backfillPersonalData(app.db, app.hsm);
  const of = (table: string, column: string) => counts.find((c) => c.table === table && c.column === column)!;
  expect(of('cases', 'handler_id_number')).toMatchObject({ fromClear: expect.any(Number), refused: 0 });
  expect(of('cases', 'handler_id_number').fromClear).toBeGreaterThanOrEqual(1);
  expect(of('cases', 'legal_rep_id_number').fromV1).toBeGreaterThanOrEqual(1);
  expect(of('seal_keepers', 'id_number').fromClear).toBeGreaterThanOrEqual(1);
  const files = await backfillMaterialFiles(app.db, app.hsm, blobs());
  // At least this test's two files (the whole suite shares the database; other files' own checks follow below).
  expect(files.rewritten).toBeGreaterThanOrEqual(2);
  expect(files.removed).toBeGreaterThanOrEqual(2);
  // Idempotent: a second run finds nothing to do.
  expect(await encryptLegacyPersonalData(app.db, app.hsm, blobs())).toBe(0);
  const row = await app.db('cases').where({ id: caseId }).first('handler_id_number', 'handler_phone', 'legal_rep_id_number');
  expect([row.handler_id_number, row.handler_phone, row.legal_rep_id_number]).toEqual([expect.stringMatching(/^pd2:/), expect.stringMatching(/^pd2:/), expect.stringMatching(/^pd2:/)]);
  const dump = await pgDump();
  expect([oldId, keeperId, legalRepId, '13512345678'].filter((x) => dump.includes(x))).toEqual([]);
  expect((await lookup(oldId)).body.records).toEqual([expect.objectContaining({ role: 'handler', case_id: caseId })]);
  expect((await lookup(legalRepId)).body.records).toEqual([expect.objectContaining({ role: 'legal_representative', case_id: caseId })]);
  expect((await lookup(keeperId)).body.records).toEqual([expect.objectContaining({ role: 'keeper', seal: expect.objectContaining({ id: sealId }) })]);
  const pd = personalData(app);
  const phonePlace = { table: 'cases', column: 'handler_phone', row: caseId };
  expect(await pd.decrypt(row.handler_phone, phonePlace)).toBe('13512345678');
  // The files: rewritten in the chunked format under new addresses, the old ones gone, the clear bytes the same.
  const materials = await app.db('materials').whereIn('id', [clearMaterial, v1Material]).orderBy('kind').select('blob_sha256', 'blob_format');
  expect(materials).toEqual([expect.objectContaining({ blob_format: 'pd2' }), expect.objectContaining({ blob_format: 'pd2' })]);
  expect(materials.map((m) => m.blob_sha256)).not.toContain(clearFile.sha256);
  expect(await blobs().has(clearFile.sha256)).toBe(false);
  expect(await blobs().has(v1File.sha256)).toBe(false);
  expect(await app.db('blobs').whereIn('sha256', [clearFile.sha256, v1File.sha256]).whereNotNull('erased_at').pluck('sha256')).toHaveLength(2);
  for (const m of materials) expect((await blobs().get(m.blob_sha256)).subarray(0, 6).toString('latin1')).toBe('ESPD2\n');
  expect((await readMaterial(clearMaterial)).bytes.equals(PDF_BYTES)).toBe(true);
  expect((await readMaterial(v1Material)).bytes.equals(PNG_BYTES)).toBe(true);

  // AES-GCM authenticates: a changed byte (or a value moved to another key) fails instead of decrypting to garbage.
  const [prefix, keyId, body] = row.handler_phone.split(':');
  const raw = Buffer.from(body, 'base64');
  raw[raw.length - 1] ^= 1;
  await expect(pd.decrypt(`${prefix}:${keyId}:${raw.toString('base64')}`, phonePlace)).rejects.toThrow(/authenticate/);
  const filePlace = { table: 'materials', column: 'blob_sha256', row: holderId };
  const file = await pd.encryptBlob(PDF_BYTES, filePlace);
  file[file.length - 20] ^= 1;
  await expect(pd.decryptBlob(file, filePlace)).rejects.toThrow(/authenticate/);
});

test('P1: a ciphertext copied into another row or column is refused with a clear bilingual error and audited, never read as that row\'s value; so is a file moved to another holder\'s case', async () => {
  const makerId = (await app.db('users').where({ id: maker.id }).first('maker_id')).maker_id;
  const pd = personalData(app);
  // Two holders, each with a case and a seal, as the application use-case writes them (values bound to their rows).
  const setup = async (birth: string) => {
    const holderId = randomUUID();
    await app.db('holders').insert({ id: holderId, uscc: makeUscc('110105'), name: `北京绑定${birth}有限公司`, kind: 'enterprise', district_code: '110105', address: '北京市朝阳区' });
    const caseId = randomUUID();
    const handlerId = makeResidentId(birth);
    const phone = `139${birth}`;
    const at = (column: string) => ({ table: 'cases', column, row: caseId });
    const id = await pd.protectId(handlerId, at('handler_id_number'));
    await app.db('cases').insert({ id: caseId, maker_id: makerId, holder_id: holderId, district_code: '110105', status: 'collected', language: 'zh', handler_name: '绑', handler_id_number: id.enc, handler_id_number_hmac: id.hmac, handler_phone: await pd.encrypt(phone, at('handler_phone')), created_by: maker.id });
    const sealId = randomUUID();
    await app.db('seals').insert({ id: sealId, case_id: caseId, holder_id: holderId, kind: 'business_contract', number: 1, text: `北京绑定${birth}有限公司`, status: 'active' });
    const holder = await createUser(app.db, 'holder', { holder_id: holderId });
    return { holderId, caseId, sealId, handlerId, phone, holder };
  };
  const a = await setup('19700101');
  const b = await setup('19710202');
  const keeperA = makeResidentId('19720303');
  const keeperB = makeResidentId('19730404');
  expect((await api(app.url, a.holder.token, 'POST', `/api/seals/${a.sealId}/keepers`, { name: '甲保管', id_number: keeperA })).status).toBe(201);
  expect((await api(app.url, b.holder.token, 'POST', `/api/seals/${b.sealId}/keepers`, { name: '乙保管', id_number: keeperB })).status).toBe(201);
  const keepersOf = (s: typeof a) => api(app.url, s.holder.token, 'GET', `/api/seals/${s.sealId}/keepers`);
  expect((await keepersOf(b)).body.keepers).toEqual([expect.objectContaining({ id_number_masked: maskResidentId(keeperB) })]);
  const refusals = async (table: string, row: string) => app.db('audit_entries').where({ action: 'personal_data.integrity_failure', target_type: table, target_id: row }).select('outcome', 'details');
  const expectRefused = (res: { status: number; body: any }, column: string) => {
    expect(res.status).toBe(500);
    expect(res.body.error).toMatchObject({ code: 'PERSONAL_DATA_INTEGRITY', message_zh: expect.stringContaining('完整性校验'), message_en: expect.stringContaining('integrity check') });
    expect(res.body.error.message_en).toContain(column);
  };

  // Another row: keeper A's ciphertext copied over keeper B's (with its keyed hash, as one who knows the schema would).
  const rowA = await app.db('seal_keepers').where({ seal_id: a.sealId }).first('id', 'id_number', 'id_number_hmac');
  const rowB = await app.db('seal_keepers').where({ seal_id: b.sealId }).first('id', 'id_number', 'id_number_hmac');
  await app.db('seal_keepers').where({ id: rowB.id }).update({ id_number: rowA.id_number, id_number_hmac: rowA.id_number_hmac });
  const moved = await keepersOf(b);
  expectRefused(moved, 'seal_keepers.id_number');
  expect(JSON.stringify(moved.body)).not.toContain(maskResidentId(keeperA));
  expect(await refusals('seal_keepers', rowB.id)).toEqual([{ outcome: 'error', details: { table: 'seal_keepers', column: 'id_number', reason: 'altered or another place' } }]);
  await app.db('seal_keepers').where({ id: rowB.id }).update({ id_number: rowB.id_number, id_number_hmac: rowB.id_number_hmac });
  expect((await keepersOf(b)).body.keepers).toEqual([expect.objectContaining({ id_number_masked: maskResidentId(keeperB) })]);

  // Another column of the same row: the handler's ID number put where the phone belongs (the case page shows the phone).
  const caseRow = await app.db('cases').where({ id: a.caseId }).first('handler_id_number', 'handler_phone');
  const casePage = () => fetch(`${app.url}/cases/${a.caseId}`, { headers: { authorization: `Bearer ${officer.token}` } }).then(async (r) => ({ status: r.status, html: await r.text() }));
  expect((await casePage()).html).toContain(a.phone);
  await app.db('cases').where({ id: a.caseId }).update({ handler_phone: caseRow.handler_id_number });
  const page = await casePage();
  expect(page.status).toBe(500);
  expect(page.html).not.toContain(a.handlerId);
  expect(await refusals('cases', a.caseId)).toEqual([{ outcome: 'error', details: { table: 'cases', column: 'handler_phone', reason: 'altered or another place' } }]);
  // The same case's phone copied from case B (another row, same column) is refused as well.
  const phoneB = (await app.db('cases').where({ id: b.caseId }).first('handler_phone')).handler_phone;
  await expect(pd.decrypt(phoneB, { table: 'cases', column: 'handler_phone', row: a.caseId })).rejects.toThrow(expect.objectContaining({ code: 'PERSONAL_DATA_INTEGRITY' }));
  await app.db('cases').where({ id: a.caseId }).update({ handler_phone: caseRow.handler_phone });
  expect((await casePage()).html).toContain(a.phone);

  // A file: holder A's on-site image referred to from a material of holder B's case.
  const image = await upload(app.url, maker.token, a.caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
  expect(image.status).toBe(201);
  const stolen = randomUUID();
  await app.db('materials').insert({ id: stolen, case_id: b.caseId, kind: 'on_site_image', original_name: 'x.png', blob_sha256: image.body.sha256, blob_format: 'pd2', uploaded_by: maker.id });
  const res = await fetch(`${app.url}/api/materials/${stolen}`, { headers: { authorization: `Bearer ${maker.token}` } });
  const text = await res.text();
  expect(res.status).toBe(500);
  expect(JSON.parse(text).error).toMatchObject({ code: 'PERSONAL_DATA_INTEGRITY', message_en: expect.stringContaining('materials.blob_sha256') });
  expect(text).not.toContain(PNG_BYTES.subarray(8, 24).toString('latin1'));
  expect(await refusals('materials', b.holderId)).toEqual([{ outcome: 'error', details: { table: 'materials', column: 'blob_sha256', reason: expect.stringContaining('another place') } }]);
  const own = await fetch(`${app.url}/api/materials/${image.body.id}`, { headers: { authorization: `Bearer ${maker.token}` } });
  expect(Buffer.from(await own.arrayBuffer()).equals(PNG_BYTES)).toBe(true);
});

test('P1: a 10 MiB upload is encrypted and decrypted as streams (chunked format) and reads back byte for byte', async () => {
  const makerId = (await app.db('users').where({ id: maker.id }).first('maker_id')).maker_id;
  const holderId = randomUUID();
  await app.db('holders').insert({ id: holderId, uscc: makeUscc('110105'), name: '北京大文件有限公司', kind: 'enterprise', district_code: '110105', address: '北京市朝阳区' });
  const caseId = randomUUID();
  await app.db('cases').insert({ id: caseId, maker_id: makerId, holder_id: holderId, district_code: '110105', status: 'collected', language: 'zh', handler_name: '大', created_by: maker.id });
  const big = Buffer.concat([PDF_BYTES, randomBytes(10 * 1024 * 1024 - PDF_BYTES.length)]);
  const up = await upload(app.url, maker.token, caseId, 'establishment_document', big, 'big.pdf');
  expect(up.status).toBe(201);
  const onDisk = await readFile(path.join(app.config.runtime.dataDir, 'blobs', up.body.sha256.slice(0, 2), up.body.sha256));
  expect(onDisk.length).toBe(encryptedBlobSize(big.length));
  expect(onDisk.subarray(0, 6).toString('latin1')).toBe('ESPD2\n');
  expect(onDisk.includes(big.subarray(1000, 1032))).toBe(false);
  const res = await fetch(`${app.url}/api/materials/${up.body.id}`, { headers: { authorization: `Bearer ${maker.token}` } });
  expect(res.status).toBe(200);
  expect(Buffer.from(await res.arrayBuffer()).equals(big)).toBe(true);
});
