// The rules around the main path: shared registration (A3), new state organs (A4), maker licences (M1),
// and a worker killed during production (exactly one key and one certificate).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc, PDF_BYTES, PNG_BYTES, upload, recentRegistrationDate } from '../helpers/fixtures';
import { waitForCase } from '../helpers/journeys';
import { PRODUCTION_DATA } from '../helpers/production-data';

let app: RunningApp;
let admin: { id: string; token: string };
let officer: { id: string; token: string };

beforeAll(async () => {
  app = await startApp();
  admin = await createUser(app.db, 'admin');
  officer = await createUser(app.db, 'officer', { district_code: '110101' });
});
afterAll(async () => {
  await app?.stop();
});

const waitForStatus = (token: string, caseId: string, status: string, timeoutMs = 30_000) => waitForCase(app, token, caseId, status, timeoutMs);

async function registerHolder(uscc: string, kind = 'enterprise', district = '110101') {
  const res = await api(app.url, admin.token, 'POST', '/api/registration/holders', {
    uscc, name: `北京登记共享${uscc.slice(-4)}有限公司`, kind, legal_representative: '孙八', address: '北京市东城区东长安街1号', district, registration_date: recentRegistrationDate(),
  });
  expect(res.status).toBe(201);
  return res.body;
}

const applicationFor = (holder: { uscc: string; name: string; kind: string }, extra: Record<string, unknown> = {}) => ({
  holder: { uscc: holder.uscc, name: holder.name, kind: holder.kind, address: '北京市东城区东长安街1号', district: '110101' },
  seal: { kind: 'legal_name', language: 'zh' },
  handler: { name: '周九', id_number: makeResidentId(), phone: '13900139000' },
  ...extra,
});

async function produce(token: string, caseId: string, headers: Record<string, string> = {}) {
  const image = await upload(app.url, token, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
  return api(app.url, token, 'POST', `/api/applications/${caseId}/production`, { production_data: PRODUCTION_DATA, on_site_image_id: image.body.id }, headers);
}

test('A3: a holder from the market-regulation registration feed applies with no materials', async () => {
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const holder = await registerHolder(makeUscc('110101'));
  expect(holder).toMatchObject({ pre_verified: true, source: 'market_regulation' });
  const created = await api(app.url, maker.token, 'POST', '/api/applications', applicationFor(holder));
  expect(created.status).toBe(201);
  const view = await waitForStatus(maker.token, created.body.id, 'awaiting_production');
  expect(view.missing_materials).toEqual([]);
  expect(view.materials).toEqual([]);
  // Uploads are size-limited: an oversized file is refused by name of field, and nothing is stored.
  const huge = Buffer.concat([PDF_BYTES, Buffer.alloc(10 * 1024 * 1024)]);
  const tooBig = await upload(app.url, maker.token, created.body.id, 'establishment_document', huge);
  expect(tooBig.status).toBe(400);
  expect(tooBig.body.error).toMatchObject({ code: 'UPLOAD_TOO_LARGE', fields: [expect.objectContaining({ field: 'file' })] });
  expect((await api(app.url, maker.token, 'GET', `/api/applications/${created.body.id}`)).body.materials).toEqual([]);
  // The feed is checked like any input.
  const bad = await api(app.url, admin.token, 'POST', '/api/registration/holders', { uscc: 'nope', name: 'x', kind: 'enterprise', address: 'y', district: '110101' });
  expect(bad.status).toBe(400);
  expect(bad.body.error.fields.map((f: { field: string }) => f.field)).toContain('uscc');
});

test('A4: a newly established state organ waits for an officer to approve its establishment document', async () => {
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const uscc = makeUscc('110101', '11');
  const created = await api(app.url, maker.token, 'POST', '/api/applications', applicationFor({ uscc, name: '北京市东城区新设事务中心', kind: 'state_organ' }, { newly_established_organ: true }));
  expect(created.status).toBe(201);
  const caseId = created.body.id;
  const view = await waitForStatus(maker.token, caseId, 'materials_required');
  for (const m of view.missing_materials) expect((await upload(app.url, maker.token, caseId, m.kind, PDF_BYTES)).status).toBe(201);
  await waitForStatus(maker.token, caseId, 'awaiting_establishment_approval');
  // Production cannot start before the approval.
  const early = await produce(maker.token, caseId);
  expect(early.status).toBe(409);
  expect(early.body.error.message_en).toMatch(/awaiting_establishment_approval/);
  const tasks = await api(app.url, officer.token, 'GET', '/api/tasks?kind=establishment_approval');
  const task = tasks.body.find((t: { case_id: string }) => t.case_id === caseId);
  expect(task).toBeDefined();
  expect((await api(app.url, officer.token, 'POST', `/api/tasks/${task.id}/decision`, { decision: 'accept', reason: '设立文件齐全' })).status).toBe(200);
  await waitForStatus(maker.token, caseId, 'awaiting_production');
});

test('M1: a maker whose licence is not valid cannot submit, and a running case pauses until the licence is valid again', async () => {
  const makerId = await createMaker(app.db);
  const maker = await createUser(app.db, 'maker', { maker_id: makerId });
  const holder = await registerHolder(makeUscc('110101'));
  const created = await api(app.url, maker.token, 'POST', '/api/applications', applicationFor(holder));
  const caseId = created.body.id;
  await waitForStatus(maker.token, caseId, 'awaiting_production');

  const suspended = await api(app.url, admin.token, 'PATCH', `/api/makers/${makerId}/licence`, { status: 'suspended' });
  expect(suspended.body.licence_status).toBe('suspended');
  const refused = await api(app.url, maker.token, 'POST', '/api/applications', applicationFor(await registerHolder(makeUscc('110101'))));
  expect(refused.status).toBe(422);
  expect(refused.body.error.fields[0].field).toBe('maker.licence');

  expect((await produce(maker.token, caseId)).status).toBe(200);
  const paused = await waitForStatus(maker.token, caseId, 'licence_paused');
  expect(paused.status_reason).toMatch(/suspended/);
  expect(paused.seal.seal_code).toBeNull(); // nothing was produced

  await api(app.url, admin.token, 'PATCH', `/api/makers/${makerId}/licence`, { status: 'active' });
  const resumed = await waitForStatus(maker.token, caseId, 'awaiting_filing');
  expect(resumed.seal.seal_code).toMatch(/^1101010\d{6}$/);
});

test('M4: an HSM worker killed during production is replaced; the seal has exactly one key and one certificate', async () => {
  const own = await startApp({ hsmWorker: false, taskQueueSuffix: '-kill' });
  const children: ChildProcess[] = [];
  try {
    const maker = await createUser(own.db, 'maker', { maker_id: await createMaker(own.db) });
    const holder = await registerHolder(makeUscc('110101'));
    const created = await api(own.url, maker.token, 'POST', '/api/applications', applicationFor(holder));
    const caseId = created.body.id;
    const marker = path.join(mkdtempSync(path.join(tmpdir(), 'kill-')), 'calls');
    const env = { ...process.env, ...own.workerEnv, MARKER_FILE: marker, SLOW_METHOD: 'generateWrappedEcKeyPair' };
    const root = path.resolve(__dirname, '../..');
    const slow = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/fixtures/slow-hsm-worker.ts')], { env, stdio: 'inherit' });
    children.push(slow);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await api(own.url, maker.token, 'GET', `/api/applications/${caseId}`)).body.status !== 'awaiting_production') await new Promise((r) => setTimeout(r, 150));
    // The HSM worker stalls mid-production: the answer is 202 (taken up, still producing; the status link follows it).
    const producing = await produce(maker.token, caseId, { prefer: 'wait=1' });
    expect(producing.status).toBe(202);
    expect(producing.body.status).toBe('producing');
    while (!existsSync(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(marker)).toBe(true); // the HSM generated a key, and the worker dies before storing it
    slow.kill('SIGKILL');
    children.push(spawn(process.execPath, ['--import', 'tsx', path.join(root, 'workers/hsm-worker.ts')], { env: { ...process.env, ...own.workerEnv }, stdio: 'inherit' }));

    const seal = await (async () => {
      for (;;) {
        const view = (await api(own.url, maker.token, 'GET', `/api/applications/${caseId}`)).body;
        if (view.status === 'awaiting_filing') return view.seal;
        if (Date.now() > deadline + 30_000) throw new Error(`still ${view.status}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    expect(readFileSync(marker, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(await own.db('seal_keys').where({ seal_id: seal.id }).count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
    const row = await own.db('seals').where({ id: seal.id }).first('certificate_der', 'public_key_spki', 'certificate_serial');
    expect(row.certificate_der).toBeTruthy();
    const key = await own.db('seal_keys').where({ seal_id: seal.id }).first('public_key_spki');
    expect(Buffer.compare(row.public_key_spki, key.public_key_spki)).toBe(0);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await own.stop();
  }
});

test('S2: a holder kind left out is the one the USCC names (9-1 企业, 1-1 机关) or the registered holder\'s; a USCC that names none asks for it, naming holder.kind, and stores nothing', async () => {
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const kindOf = async (caseId: string) => (await app.db('cases as c').join('holders as h', 'h.id', 'c.holder_id').where('c.id', caseId).first('h.kind')).kind;
  const unsaid = (uscc: string, name: string) => {
    const body = applicationFor({ uscc, name, kind: '' });
    delete (body.holder as { kind?: string }).kind;
    return body;
  };

  const enterprise = makeUscc('110101', '91');
  const e = await api(app.url, maker.token, 'POST', '/api/applications', unsaid(enterprise, `北京类型推定${enterprise.slice(-4)}有限公司`));
  expect(e.status).toBe(201);
  expect(await kindOf(e.body.id)).toBe('enterprise');

  const organ = makeUscc('110101', '11');
  const o = await api(app.url, maker.token, 'POST', '/api/applications', { ...unsaid(organ, `北京市东城区类型推定${organ.slice(-4)}局`), seal: { kind: 'business_contract', language: 'zh' } });
  expect(o.status).toBe(201);
  expect(await kindOf(o.body.id)).toBe('state_organ');

  // Registered (A3) as another kind than its code names: the register's kind, not a mismatch.
  const registered = await registerHolder(makeUscc('110101', '91'), 'other_organisation');
  const r = await api(app.url, maker.token, 'POST', '/api/applications', unsaid(registered.uscc, registered.name));
  expect(r.status).toBe(201);
  expect(await kindOf(r.body.id)).toBe('other_organisation');

  // 1-9 (机构编制 其他) names no kind: asked for, in both languages, with nothing stored.
  const unclear = makeUscc('110101', '19');
  const u = await api(app.url, maker.token, 'POST', '/api/applications', unsaid(unclear, `北京类型不明${unclear.slice(-4)}中心`));
  expect(u.status).toBe(400);
  expect(u.body.error.fields).toEqual([expect.objectContaining({ field: 'holder.kind', message_zh: expect.stringMatching(/未表明单位类型/), message_en: expect.stringMatching(/does not say which kind/) })]);
  expect(await app.db('holders').where({ uscc: unclear }).first()).toBeUndefined();
});
