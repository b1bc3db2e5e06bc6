// A3 as an exchange: the market-regulation authority delivers signed batches (JSON Lines with a detached CMS
// signature made here by openssl, as the authority's own software would), over HTTPS and through the inbox
// folder on a Temporal Schedule; each row accepted or refused by field; a batch imported once however often
// it arrives; materials waived only for holders registered within the window.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc, recentRegistrationDate } from '../helpers/fixtures';
import { waitForCase } from '../helpers/journeys';
import { ensureRegistrationInboxSchedule, REGISTRATION_INBOX_SCHEDULE_ID } from '../../usecases/registration-exchange';
import { registrationInboxDir } from '../../activities/registration-exchange';

const DISTRICT = '110105';
let app: RunningApp;
let admin: { id: string; token: string };
let supervisor: { id: string; token: string };
let maker: { id: string; token: string };
let work: string;
let certPem: string;

beforeAll(async () => {
  app = await startApp();
  admin = await createUser(app.db, 'admin');
  supervisor = await createUser(app.db, 'supervisor');
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  work = mkdtempSync(path.join(tmpdir(), 'eseal-a3-'));
  // The authority's signing key and certificate (its own, not the platform's).
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(work, 'amr.key'), '-out', path.join(work, 'amr.pem'), '-days', '30', '-subj', '/CN=Beijing AMR registration exchange (test)'], { stdio: 'ignore' });
  certPem = readFileSync(path.join(work, 'amr.pem'), 'utf8');
});
afterAll(async () => {
  await app?.temporalClient.schedule.getHandle(REGISTRATION_INBOX_SCHEDULE_ID).delete().catch(() => undefined);
  await app?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** openssl cms -sign: a detached signature with signed attributes, SHA-256, the signer's certificate inside. */
function sign(content: Buffer, name = `b${Date.now()}`): Buffer {
  const file = path.join(work, `${name}.jsonl`);
  writeFileSync(file, content);
  execFileSync('openssl', ['cms', '-sign', '-binary', '-md', 'sha256', '-in', file, '-signer', path.join(work, 'amr.pem'), '-inkey', path.join(work, 'amr.key'), '-outform', 'DER', '-out', `${file}.p7s`]);
  return readFileSync(`${file}.p7s`);
}

async function postBatch(content: Buffer, signature: Buffer) {
  const form = new FormData();
  form.append('batch', new Blob([content]), 'batch.jsonl');
  form.append('signature', new Blob([signature]), 'batch.jsonl.p7s');
  const res = await fetch(`${app.url}/api/registration/batches`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as any };
}

async function reportWhenImported(id: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await api(app.url, supervisor.token, 'GET', `/api/registration/batches/${id}`);
    if (r.status === 200 && r.body.status === 'imported') return r.body;
    if (Date.now() > deadline) throw new Error(`batch ${id} not imported: ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

const holderRow = (uscc: string, daysAgo: number, extra: Record<string, unknown> = {}) => ({
  uscc, name: `北京新设${uscc.slice(-5)}科技有限公司`, kind: 'enterprise', address: '北京市朝阳区建国路88号', district: DISTRICT, legal_representative: '郑十一',
  registration_date: recentRegistrationDate(daysAgo), ...extra,
});
const jsonl = (rows: unknown[]) => Buffer.from(rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');

const fresh = makeUscc(DISTRICT);
const old = makeUscc(DISTRICT);
let batchId = '';

test('A3: a batch signed by a certificate the administrator has not listed is refused naming the field signature, and nothing is kept', async () => {
  const content = jsonl([holderRow(makeUscc(DISTRICT), 1)]);
  const res = await postBatch(content, sign(content, 'unlisted'));
  expect(res.status).toBe(422);
  expect(res.body.error).toMatchObject({ code: 'SIGNATURE_REFUSED', fields: [expect.objectContaining({ field: 'signature' })] });
  expect(res.body.error.message_zh).toMatch(/签名/);
  expect(res.body.error.message_en).toMatch(/not by a certificate the administrator listed/);
  const id = createHash('sha256').update(content).digest('hex');
  expect(await app.db('registration_batches').where({ id }).first()).toBeUndefined();
});

test('A3: a signed batch is imported once: each row accepted, or refused naming its field in Chinese and English', async () => {
  expect((await api(app.url, supervisor.token, 'POST', '/api/registration/feed-certificates', { certificate: certPem })).status).toBe(403);
  const listed = await api(app.url, admin.token, 'POST', '/api/registration/feed-certificates', { certificate: certPem });
  expect(listed.status).toBe(201);
  const content = jsonl([
    holderRow(fresh, 3),
    holderRow(old, 60),
    holderRow('91110105MA0000000X', 1), // check character wrong
    holderRow(makeUscc(DISTRICT), -2), // registered after today
    holderRow(makeUscc(DISTRICT), 1, { kind: 'state_organ' }), // national rules, not the exchange
    '{"uscc": ',
  ]);
  const sig = sign(content, 'good');
  const first = await postBatch(content, sig);
  expect(first.status).toBe(202);
  batchId = first.body.batch_id;
  expect(batchId).toBe(createHash('sha256').update(content).digest('hex'));
  const report = await reportWhenImported(batchId);
  expect({ accepted: report.accepted, refused: report.refused }).toEqual({ accepted: 2, refused: 4 });
  const refusedFields = report.rows.filter((r: any) => r.outcome === 'refused').map((r: any) => [r.line, r.refusals.map((x: any) => x.field)]);
  expect(refusedFields).toEqual([[3, ['uscc']], [4, ['registration_date']], [5, ['kind']], [6, [null]]]);
  for (const r of report.rows.filter((x: any) => x.outcome === 'refused')) {
    for (const x of r.refusals) expect(x.messageZh.length * x.messageEn.length).toBeGreaterThan(0);
  }
  // Delivered again: the same batch, not a second import.
  const again = await postBatch(content, sig);
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ batch_id: batchId, status: 'imported' });
  const imports = await app.db('audit_entries').where({ action: 'registration.batch_import', target_id: batchId }).count<{ count: string }[]>('* as count');
  expect(Number(imports[0].count)).toBe(1);
  const holders = await app.db('holders').whereIn('uscc', [fresh, old]).orderBy('uscc').select('uscc', 'source', 'pre_verified', 'registration_batch_id');
  expect(holders).toHaveLength(2);
  for (const h of holders) expect(h).toMatchObject({ source: 'market_regulation', pre_verified: true, registration_batch_id: batchId });
});

test('A3: a batch changed after signing is refused (the digest does not match), nothing kept', async () => {
  const content = jsonl([holderRow(makeUscc(DISTRICT), 1)]);
  const sig = sign(content, 'tampered');
  const changed = Buffer.from(content.toString().replace('郑十一', '郑十二'));
  const res = await postBatch(changed, sig);
  expect(res.status).toBe(422);
  expect(res.body.error.details).toMatchObject({ reason: 'digest_mismatch' });
  expect(await app.db('registration_batches').where({ id: createHash('sha256').update(changed).digest('hex') }).first()).toBeUndefined();
});

const application = (uscc: string, name: string) => ({
  holder: { uscc, name, kind: 'enterprise', address: '北京市朝阳区建国路88号', district: DISTRICT },
  seal: { kind: 'legal_name', language: 'zh' },
  handler: { name: '周九', id_number: makeResidentId(), phone: '13900139000' },
});

test('A3: materials are waived for a holder registered within the window (30 days), and asked of one registered 60 days before', async () => {
  const [f, o] = await Promise.all([fresh, old].map((u) => app.db('holders').where({ uscc: u }).first('uscc', 'name')));
  const a = await api(app.url, maker.token, 'POST', '/api/applications', application(f.uscc, f.name));
  const b = await api(app.url, maker.token, 'POST', '/api/applications', application(o.uscc, o.name));
  expect([a.status, b.status]).toEqual([201, 201]);
  const viewA = await waitForCase(app, maker.token, a.body.id, 'awaiting_production');
  expect(viewA.missing_materials).toEqual([]);
  const viewB = await waitForCase(app, maker.token, b.body.id, 'materials_required');
  expect(viewB.missing_materials.map((m: { kind: string }) => m.kind)).toEqual(expect.arrayContaining(['establishment_document', 'handler_id_copy']));
});

test('A3: a batch dropped in the inbox folder is imported on the schedule; one whose certificate was withdrawn is refused', async () => {
  const uscc = makeUscc(DISTRICT);
  const content = jsonl([holderRow(uscc, 2)]);
  const sig = sign(content, 'inbox');
  const inbox = registrationInboxDir(app.config.runtime.dataDir);
  mkdirSync(inbox, { recursive: true });
  writeFileSync(path.join(inbox, 'amr-0001.jsonl.p7s'), sig);
  writeFileSync(path.join(inbox, 'amr-0001.jsonl'), content);
  await ensureRegistrationInboxSchedule(app.temporalClient.connection, app.config);
  await app.temporalClient.schedule.getHandle(REGISTRATION_INBOX_SCHEDULE_ID).trigger();
  const report = await reportWhenImported(createHash('sha256').update(content).digest('hex'));
  expect(report).toMatchObject({ source: 'inbox', file_name: 'amr-0001.jsonl', accepted: 1, refused: 0 });
  expect(existsSync(path.join(inbox, 'processed', 'amr-0001.jsonl'))).toBe(true);
  expect(existsSync(path.join(inbox, 'amr-0001.jsonl'))).toBe(false);

  const fingerprint = createHash('sha256').update(Buffer.from(certPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')).digest('hex');
  expect((await api(app.url, admin.token, 'POST', `/api/registration/feed-certificates/${fingerprint}/withdraw`)).status).toBe(200);
  const later = jsonl([holderRow(makeUscc(DISTRICT), 1)]);
  const refused = await postBatch(later, sign(later, 'withdrawn'));
  expect(refused.status).toBe(422);
  expect(refused.body.error.details).toMatchObject({ reason: 'unknown_signer' });
});
