// Retention on the real services through the JSON API: premises video (M8) — streamed, hashed, sniffed and
// size-limited uploads, the refusals within the 90 days and the access log of every attempt, a corrupted
// file detected on read — and seal archives (M7) — the database refusing deletion and early erasure, a
// stopped seal's archive kept 5 years by its workflow. (The 90 days and 5 years themselves run on the
// time-skipping server: test/workflows/retention.test.ts.)
//   node --import tsx scripts/with-stack.ts -- npx jest test/integration/retention.test.ts
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { addIsoDuration, shanghaiDate, shanghaiEndOfDay } from '../../domain/calendar';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc, PDF_BYTES, PNG_BYTES, upload, recentRegistrationDate } from '../helpers/fixtures';
import { collectedSeal } from '../helpers/journeys';
import { browserUser } from '../e2e/browser';
import { unzipSync } from 'fflate';
import { eventually } from '../helpers/wait';
import { ownerDb } from '../helpers/owner-db';
import { processTempDir } from '../../infra/blobs/tempdir';

const DAY = 24 * 3600 * 1000;
type User = { id: string; token: string };

let app: RunningApp;
let makerId: string;
let maker: User;
let otherMaker: User;
let chaoyangOfficer: User;
let haidianOfficer: User;
let supervisor: User;
let admin: User;
let holderUser: User;

beforeAll(async () => {
  app = await startApp();
  makerId = await createMaker(app.db); // premises in Chaoyang (110105)
  maker = await createUser(app.db, 'maker', { maker_id: makerId });
  otherMaker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  chaoyangOfficer = await createUser(app.db, 'officer', { district_code: '110105' });
  haidianOfficer = await createUser(app.db, 'officer', { district_code: '110108' });
  supervisor = await createUser(app.db, 'supervisor');
  admin = await createUser(app.db, 'admin');
  const holderId = randomUUID();
  await app.db('holders').insert({ id: holderId, uscc: makeUscc('110105'), name: '北京录像测试有限公司', kind: 'enterprise', district_code: '110105', address: '北京市朝阳区' });
  holderUser = await createUser(app.db, 'holder', { holder_id: holderId });
});
afterAll(async () => {
  await app?.stop();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const blobPath = (sha: string) => path.join(app.config.runtime.dataDir, 'blobs', sha.slice(0, 2), sha);
/** A small MP4 (ftyp box, then bytes). */
const videoBytes = (size = 8192) => Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom', 'latin1'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2', 'latin1'), randomBytes(size)]);

function times(hoursAgo = 3) {
  const end = new Date(Date.now() - hoursAgo * 3600_000);
  return { recorded_start: new Date(end.getTime() - 3600_000).toISOString(), recorded_end: end.toISOString() };
}

async function uploadSegment(token: string, fields: Record<string, string>, bytes: Buffer | null, filename = 'segment.mp4') {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  if (bytes) form.set('file', new Blob([bytes]), filename);
  const res = await fetch(`${app.url}/api/video-segments`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: (await res.json()) as any };
}

async function newSegment(camera = `cam-${randomUUID().slice(0, 6)}`, bytes = videoBytes()) {
  const fields = { camera_id: camera, ...times(), sha256: sha256(bytes) };
  const res = await uploadSegment(maker.token, fields, bytes);
  expect(res.status).toBe(201);
  return { id: res.body.id as string, bytes, fields, body: res.body };
}

async function raw(token: string, method: string, p: string, body?: unknown) {
  const res = await fetch(app.url + p, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = (res.headers.get('content-type') ?? '').startsWith('application/json') ? JSON.parse(bytes.toString('utf8')) : null;
  return { status: res.status, headers: res.headers, bytes, json };
}

const accessLog = (segmentId: string) => app.db('video_access_log').where({ segment_id: segmentId }).orderBy('id');
const fieldsOf = (body: any) => (body.error.fields as Array<{ field: string }>).map((f) => f.field).sort();

test('M8: a maker uploads a surveillance segment — streamed into the content store, its hash computed and checked, its type sniffed, its size limited — and its retention workflow starts (90 days)', async () => {
  const bytes = videoBytes(64 * 1024);
  const fields = { camera_id: 'gate-01', ...times(), sha256: sha256(bytes).toUpperCase() };
  const created = await uploadSegment(maker.token, fields, bytes, 'gate.mp4');
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ camera_id: 'gate-01', sha256: sha256(bytes), size: bytes.length, content_type: 'video/mp4', maker_id: makerId, district_code: '110105', status: 'retained', workflow_id: `video:${created.body.id}` });
  // P1/M8: encrypted at rest like other personal data — the store holds ciphertext under its own hash.
  const stored = await app.db('video_segments').where({ id: created.body.id }).first('blob_sha256');
  expect(stored.blob_sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(stored.blob_sha256).not.toBe(sha256(bytes));
  const onDisk = await readFile(blobPath(stored.blob_sha256));
  expect(onDisk.subarray(0, 6).toString('latin1')).toBe('ESPD2\n');
  expect(onDisk.includes(bytes.subarray(0, 32))).toBe(false);
  expect(onDisk.includes(bytes.subarray(30_000, 30_064))).toBe(false);
  await expect(readFile(blobPath(sha256(bytes)))).rejects.toMatchObject({ code: 'ENOENT' });

  // Its own workflow keeps it 90 days (temporal.yaml P90D).
  const description = await app.temporalClient.workflow.getHandle(`video:${created.body.id}`).describe();
  expect(description).toMatchObject({ type: 'videoRetentionWorkflow', status: { name: 'RUNNING' } });
  const row = await eventually('retain_until', () => app.db('video_segments').where({ id: created.body.id }).first(), (r) => r.retain_until !== null);
  expect(new Date(row.retain_until).getTime() - new Date(row.stored_at).getTime()).toBeGreaterThanOrEqual(90 * DAY - 60_000);
  expect(new Date(row.retain_until).getTime() - new Date(row.stored_at).getTime()).toBeLessThan(90 * DAY + 60_000);

  // The same file for the same camera and times: the segment already stored.
  const again = await uploadSegment(maker.token, fields, bytes);
  expect(again.status).toBe(200);
  expect(again.body.id).toBe(created.body.id);
  expect(await app.db('video_segments').where({ camera_id: 'gate-01', maker_id: makerId })).toHaveLength(1);

  // Every field is checked at once, each named in both languages.
  const empty = await uploadSegment(maker.token, {}, null);
  expect(empty.status).toBe(400);
  expect(fieldsOf(empty.body)).toEqual(['camera_id', 'file', 'recorded_end', 'recorded_start', 'sha256']);
  expect(empty.body.error.message_zh).toContain('摄像机编号');
  expect(empty.body.error.message_en).toContain('Camera ID');
  // The hash is computed here and must match the one sent.
  const other = videoBytes();
  const mismatch = await uploadSegment(maker.token, { camera_id: 'gate-02', ...times(), sha256: sha256(bytes) }, other);
  expect(mismatch.status).toBe(400);
  expect(mismatch.body.error).toMatchObject({ code: 'CONTENT_HASH_MISMATCH' });
  expect(mismatch.body.error.fields[0]).toMatchObject({ field: 'sha256' });
  expect(mismatch.body.error.message_en).toContain(sha256(other));
  // Video by content, not by name.
  const pdf = await uploadSegment(maker.token, { camera_id: 'gate-02', ...times(), sha256: sha256(PDF_BYTES) }, PDF_BYTES, 'looks-like.mp4');
  expect(pdf.status).toBe(400);
  expect(pdf.body.error).toMatchObject({ code: 'UNSUPPORTED_TYPE', fields: [{ field: 'file' }] });
  const backwards = await uploadSegment(maker.token, { camera_id: 'gate-02', recorded_start: times().recorded_end, recorded_end: times().recorded_start, sha256: sha256(other) }, other);
  expect(fieldsOf(backwards.body)).toEqual(['recorded_end']);
  const noOffset = await uploadSegment(maker.token, { camera_id: 'gate-02', recorded_start: '2026-11-20 08:00', recorded_end: times().recorded_end, sha256: sha256(other) }, other);
  expect(fieldsOf(noOffset.body)).toEqual(['recorded_start']);
  // Size-limited while streaming: nothing is kept of a file over the limit.
  process.env.VIDEO_SEGMENT_MAX_BYTES = '4096';
  try {
    const big = videoBytes(16 * 1024);
    const tooBig = await uploadSegment(maker.token, { camera_id: 'gate-03', ...times(), sha256: sha256(big) }, big);
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error).toMatchObject({ code: 'UPLOAD_TOO_LARGE', fields: [{ field: 'file' }] });
    await expect(readFile(blobPath(sha256(big)))).rejects.toMatchObject({ code: 'ENOENT' });
  } finally {
    delete process.env.VIDEO_SEGMENT_MAX_BYTES;
  }
  expect(await readdir(path.join(app.config.runtime.dataDir, 'blobs', '.incoming'))).toEqual([]);
  // Nor is anything left staged (this process's folder under DATA_DIR; removed when each response ends).
  await eventually('staged segments removed', () => readdir(processTempDir(path.join(app.config.runtime.dataDir, 'staging', 'video'))), (left) => left.length === 0);
  expect(await app.db('video_segments').where({ maker_id: makerId }).whereIn('camera_id', ['gate-02', 'gate-03'])).toHaveLength(0);

  // Only makers store video; a form is needed.
  expect((await uploadSegment(chaoyangOfficer.token, fields, bytes)).status).toBe(403);
  const notMultipart = await api(app.url, maker.token, 'POST', '/api/video-segments', { camera_id: 'x' });
  expect(notMultipart.status).toBe(400);
  expect(notMultipart.body.error.code).toBe('multipart_required');
});

test('M8: within the 90 days deletion and alteration are refused; export needs a case reference; viewing needs the district\'s police and a reason; every attempt is logged with who, what, when, why and outcome', async () => {
  const seg = await newSegment('hall-01');
  const url = `/api/video-segments/${seg.id}`;

  // Alteration: another file for the same camera and an overlapping time.
  const altered = videoBytes();
  const alter = await uploadSegment(maker.token, { camera_id: 'hall-01', recorded_start: seg.fields.recorded_start, recorded_end: new Date(Date.parse(seg.fields.recorded_end) + 60_000).toISOString(), sha256: sha256(altered) }, altered);
  expect(alter.status).toBe(409);
  expect(alter.body.error).toMatchObject({ code: 'VIDEO_ALTERATION_REFUSED', details: { segment_id: seg.id } });
  expect(alter.body.error.message_zh).toContain('不得替换或修改');

  // Deletion and export: refused within the retention period, whoever asks.
  const del = await raw(maker.token, 'DELETE', url, { reason: '存储空间不足' });
  expect(del.status).toBe(409);
  expect(del.json.error).toMatchObject({ code: 'VIDEO_UNDER_RETENTION' });
  expect(del.json.error.message_en).toMatch(/cannot be deleted \(M8\)/);
  expect((await raw(supervisor.token, 'DELETE', `${url}?reason=${encodeURIComponent('清理')}`)).status).toBe(409);
  expect((await raw(holderUser.token, 'DELETE', url)).status).toBe(403);
  const exp = await raw(chaoyangOfficer.token, 'POST', `${url}/export`, { reason: '调取证据' });
  expect(exp.status).toBe(400);
  expect(exp.json.error.fields).toMatchObject([{ field: 'case_reference' }]);
  expect((await raw(maker.token, 'POST', `${url}/export`, { reason: '备份', case_reference: 'A1' })).status).toBe(403);

  // Viewing: the district's officers and supervisors, each with a reason; the maker sees metadata only.
  const makerView = await raw(maker.token, 'GET', `${url}?reason=x`);
  expect(makerView.status).toBe(403);
  const noReason = await raw(chaoyangOfficer.token, 'GET', url);
  expect(noReason.status).toBe(400);
  expect(noReason.json.error.fields).toMatchObject([{ field: 'reason' }]);
  expect((await raw(haidianOfficer.token, 'GET', `${url}?reason=x`)).status).toBe(403);
  expect((await raw(otherMaker.token, 'GET', `${url}?reason=x`)).status).toBe(403);
  expect((await raw(admin.token, 'GET', `${url}?reason=x`)).status).toBe(403);
  for (const [who, reason] of [[chaoyangOfficer, '例行检查'], [supervisor, '市局抽查']] as const) {
    const viewed = await raw(who.token, 'GET', `${url}?reason=${encodeURIComponent(reason)}`);
    expect(viewed.status).toBe(200);
    expect(viewed.bytes.equals(seg.bytes)).toBe(true);
    expect(viewed.headers.get('content-type')).toBe('video/mp4');
    expect(viewed.headers.get('x-content-sha256')).toBe(sha256(seg.bytes));
    expect(viewed.headers.get('cache-control')).toBe('no-store');
    expect(viewed.headers.get('content-disposition')).toBe('inline');
  }

  // Legal holds: the district's officers and supervisors, with a reason.
  expect((await api(app.url, maker.token, 'POST', `${url}/legal-hold`, { reason: 'x' })).status).toBe(403);
  expect((await api(app.url, haidianOfficer.token, 'POST', `${url}/legal-hold`, { reason: '跨区' })).status).toBe(403);
  expect((await api(app.url, chaoyangOfficer.token, 'POST', `${url}/legal-hold`, {})).status).toBe(400);
  const hold = await api(app.url, chaoyangOfficer.token, 'POST', `${url}/legal-hold`, { reason: '涉嫌伪造印章案件' });
  expect(hold.status).toBe(201);
  expect(hold.body).toMatchObject({ status: 'held', active_holds: 1, legal_holds: [{ role: 'officer', reason: '涉嫌伪造印章案件', placed_by: chaoyangOfficer.id }] });
  const heldDelete = await raw(supervisor.token, 'DELETE', url);
  expect(heldDelete.json.error.code).toBe('VIDEO_UNDER_RETENTION'); // within 90 days that comes first
  expect((await api(app.url, chaoyangOfficer.token, 'DELETE', `${url}/legal-hold`, {})).status).toBe(400);
  const lifted = await api(app.url, chaoyangOfficer.token, 'DELETE', `${url}/legal-hold`, { reason: '案件已结' });
  expect(lifted.status).toBe(200);
  expect(lifted.body).toMatchObject({ status: 'retained', active_holds: 0 });
  expect((await api(app.url, chaoyangOfficer.token, 'DELETE', `${url}/legal-hold`, { reason: '再次' })).body.error.code).toBe('NO_LEGAL_HOLD');

  // Listing (metadata only), within scope.
  const ids = async (u: User) => ((await api(app.url, u.token, 'GET', '/api/video-segments')).body as Array<{ id: string }>).map((s) => s.id);
  expect(await ids(maker)).toContain(seg.id);
  expect(await ids(chaoyangOfficer)).toContain(seg.id);
  expect(await ids(supervisor)).toContain(seg.id);
  expect(await ids(otherMaker)).not.toContain(seg.id);
  expect(await ids(haidianOfficer)).not.toContain(seg.id);
  expect((await api(app.url, holderUser.token, 'GET', '/api/video-segments')).status).toBe(403);

  // The log: every attempt on the segment, allowed or refused, with who, role, why, outcome, address, time.
  const entries = await accessLog(seg.id);
  expect(entries.map((e) => `${e.action}:${e.outcome}:${e.code ?? ''}`)).toEqual([
    'upload:allowed:',
    'alter:refused:VIDEO_ALTERATION_REFUSED',
    'delete:refused:VIDEO_UNDER_RETENTION',
    'delete:refused:VIDEO_UNDER_RETENTION',
    'delete:refused:forbidden',
    'export:refused:REQUIRED_FIELD',
    'export:refused:forbidden',
    'view:refused:forbidden',
    'view:refused:REQUIRED_FIELD',
    'view:refused:forbidden',
    'view:refused:forbidden',
    'view:refused:forbidden',
    'view:allowed:',
    'view:allowed:',
    'place_legal_hold:refused:forbidden',
    'place_legal_hold:refused:REQUIRED_FIELD',
    'place_legal_hold:allowed:',
    'delete:refused:VIDEO_UNDER_RETENTION',
    'lift_legal_hold:refused:REQUIRED_FIELD',
    'lift_legal_hold:allowed:',
    'lift_legal_hold:refused:NO_LEGAL_HOLD',
  ]);
  expect(entries[2]).toMatchObject({ actor_id: maker.id, actor_role: 'maker', actor_maker_id: makerId, reason: '存储空间不足' });
  expect(entries[3]).toMatchObject({ actor_id: supervisor.id, actor_role: 'supervisor', reason: '清理' });
  expect(entries[12]).toMatchObject({ actor_id: chaoyangOfficer.id, actor_role: 'officer', actor_district_code: '110105', reason: '例行检查' });
  for (const e of entries) {
    expect(e.client_address).toMatch(/127\.0\.0\.1$/);
    expect(Date.now() - new Date(e.at).getTime()).toBeLessThan(120_000);
  }

  // The database refuses what the regulation forbids, also to its owner.
  await expect(app.db('video_segments').where({ id: seg.id }).update({ sha256: sha256(altered) })).rejects.toThrow(/never altered/);
  await expect(app.db('video_segments').where({ id: seg.id }).update({ recorded_end: new Date() })).rejects.toThrow(/never altered/);
  await expect(app.db('video_segments').where({ id: seg.id }).del()).rejects.toThrow(/never deleted/);
  await expect(app.db('video_segments').where({ id: seg.id }).update({ status: 'purged', purged_at: new Date(), purge_basis: 'retention_policy' })).rejects.toThrow(/within its retention period/);
  await expect(app.db('video_segments').where({ id: seg.id }).update({ retain_until: new Date() })).rejects.toThrow(/fixed once set/);
  // The access log: not even granted to the application (M5: SELECT and INSERT only); the trigger refuses the owner.
  await expect(app.db('video_access_log').where({ segment_id: seg.id }).del()).rejects.toThrow(/permission denied for table video_access_log/);
  await expect(app.db('video_access_log').where({ segment_id: seg.id }).update({ outcome: 'allowed' })).rejects.toThrow(/permission denied for table video_access_log/);
  const owner = ownerDb();
  try {
    await expect(owner('video_access_log').where({ segment_id: seg.id }).del()).rejects.toThrow(/never changed or deleted/);
    await expect(owner('video_access_log').where({ segment_id: seg.id }).update({ outcome: 'allowed' })).rejects.toThrow(/never changed or deleted/);
  } finally {
    await owner.destroy();
  }
  await expect(app.db.raw('truncate video_access_log')).rejects.toThrow(/permission denied/); // not granted to the application (M5)
  await expect(app.db('video_legal_holds').where({ segment_id: seg.id }).update({ reason: '改' })).rejects.toThrow(/never changed or deleted/);
});

/** A browser session (login form) of a new user: page fetches with its cookie, forms with its CSRF token. */
async function browserOf(role: 'officer' | 'maker' | 'supervisor', scope: { district_code?: string; maker_id?: string }) {
  const user = await browserUser(app.db, role, scope);
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
  const get = (p: string) => fetch(`${app.url}${p}`, { headers: { cookie } });
  return {
    user,
    get,
    text: async (p: string) => (await get(p)).text(),
    post: (p: string, fields: Record<string, string>) =>
      fetch(`${app.url}${p}`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) }),
  };
}

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;

test('M8 (issue 14): the maker sees metadata only; the district\'s police view in the browser (logged) and export for a named case within the 90 days, as a ZIP watermarked with who/when/case; a supervisor sees each maker\'s cameras and the days without video', async () => {
  const bytes = videoBytes(150 * 1024); // several encryption chunks
  const seg = await newSegment('door-01', bytes);
  const url = `/api/video-segments/${seg.id}`;

  // The maker: metadata (camera, times, size, hash), never the content.
  const listed = (await api(app.url, maker.token, 'GET', '/api/video-segments')).body.find((x: { id: string }) => x.id === seg.id);
  expect(listed).toMatchObject({ camera_id: 'door-01', recorded_start: expect.any(String), recorded_end: expect.any(String), size: bytes.length, sha256: sha256(bytes) });
  const makerView = await raw(maker.token, 'GET', `${url}?reason=${encodeURIComponent('核对')}`);
  expect(makerView.status).toBe(403);
  expect(makerView.json.error.message_zh).toContain('只能看到本单位录像的元数据');
  expect(makerView.json.error.message_en).toContain('metadata of its video only');
  expect(makerView.bytes.includes(bytes.subarray(0, 32))).toBe(false);
  expect((await raw(maker.token, 'POST', `${url}/export`, { case_reference: 'X-1' })).status).toBe(403);

  // The police export within the 90 days, for a named case: a ZIP with the video unaltered and the watermark.
  const noCase = await raw(chaoyangOfficer.token, 'POST', `${url}/export`, { reason: '调取证据' });
  expect(noCase.status).toBe(400);
  expect(noCase.json.error.fields).toMatchObject([{ field: 'case_reference' }]);
  expect(noCase.json.error.message_zh).toContain('案件编号');
  expect(noCase.json.error.message_en).toContain('Case reference');
  expect((await raw(haidianOfficer.token, 'POST', `${url}/export`, { case_reference: '京公海刑〔2027〕9号' })).status).toBe(403);
  const caseRef = '京公朝刑立字〔2027〕0001号';
  const before = Date.now();
  const exported = await raw(chaoyangOfficer.token, 'POST', `${url}/export`, { case_reference: caseRef, reason: '伪造印章案取证' });
  expect(exported.status).toBe(200);
  expect(exported.headers.get('content-type')).toBe('application/zip');
  expect(exported.headers.get('content-disposition')).toBe(`attachment; filename="video-export-${seg.id}.zip"`);
  expect(exported.headers.get('x-content-sha256')).toBe(sha256(bytes));
  const files = unzipSync(new Uint8Array(exported.bytes));
  expect(Object.keys(files).sort()).toEqual(['export-manifest.json', `video-${seg.id}.mp4`]);
  expect(sha256(Buffer.from(files[`video-${seg.id}.mp4`]!))).toBe(sha256(bytes));
  const manifest = JSON.parse(Buffer.from(files['export-manifest.json']!).toString('utf8'));
  const officerRow = await app.db('users').where({ id: chaoyangOfficer.id }).first('username');
  expect(manifest).toMatchObject({
    exported_by: { user_id: chaoyangOfficer.id, username: officerRow.username, role: 'officer', district_code: '110105' },
    case_reference: caseRef,
    reason: '伪造印章案取证',
    segment: { id: seg.id, camera_id: 'door-01', sha256: sha256(bytes), size: bytes.length, maker_id: makerId },
  });
  expect(Date.parse(manifest.exported_at)).toBeGreaterThanOrEqual(before - 1000);
  expect(Date.parse(manifest.exported_at)).toBeLessThanOrEqual(Date.now());
  // The watermark is also the video entry's ZIP comment (zipinfo shows it).
  expect(exported.bytes.includes(Buffer.from(`(${officerRow.username}, officer 110105) at ${manifest.exported_at} for case ${caseRef}`, 'utf8'))).toBe(true);
  const exports = (await accessLog(seg.id)).filter((e) => e.action === 'export');
  expect(exports.map((e) => `${e.outcome}:${e.code ?? ''}:${e.case_reference ?? ''}`)).toEqual(['refused:forbidden:X-1', 'refused:REQUIRED_FIELD:', 'refused:forbidden:京公海刑〔2027〕9号', `allowed::${caseRef}`]);

  // In the browser: the officer views it (each request for the video logged) and exports from the page.
  const officer = await browserOf('officer', { district_code: '110105' });
  const segmentPage = await officer.text(`/video/${seg.id}`);
  expect(segmentPage).toContain('id="watch-form"');
  expect(segmentPage).toContain('id="export-form"');
  const watch = await officer.text(`/video/${seg.id}/watch?reason=${encodeURIComponent('现场巡查')}`);
  const src = /<video id="player"[^>]* src="([^"]+)"/.exec(watch)![1]!.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=');
  expect(src).toBe(`/video/${seg.id}/stream?reason=${encodeURIComponent('现场巡查')}`);
  const streamed = await officer.get(src);
  expect(streamed.status).toBe(200);
  expect(Buffer.from(await streamed.arrayBuffer()).equals(bytes)).toBe(true);
  expect((await accessLog(seg.id)).pop()).toMatchObject({ action: 'view', outcome: 'allowed', actor_id: officer.user.id, reason: '现场巡查' });
  const csrf = csrfOf(segmentPage);
  const refused = await officer.post(`/video/${seg.id}/export`, { _csrf: csrf, case_reference: '', export_reason: '取证' });
  expect(refused.status).toBe(400);
  const refusedPage = await refused.text();
  expect(/<p class="err" id="f-case-reference-msg">([^<]+)<\/p>/.exec(refusedPage)![1]).toContain('案件编号');
  const fromPage = await officer.post(`/video/${seg.id}/export`, { _csrf: csrf, case_reference: 'JX-2027-7', export_reason: '' });
  expect(fromPage.status).toBe(200);
  expect(fromPage.headers.get('content-type')).toBe('application/zip');
  expect(sha256(Buffer.from(unzipSync(new Uint8Array(await fromPage.arrayBuffer()))[`video-${seg.id}.mp4`]!))).toBe(sha256(bytes));
  // The maker's page: metadata only, no player, no export; the stream refused.
  const makerBrowser = await browserOf('maker', { maker_id: makerId });
  const makerPage = await makerBrowser.text(`/video/${seg.id}`);
  expect(makerPage).toContain('id="maker-note"');
  expect(makerPage).not.toContain('id="export-form"');
  expect((await makerBrowser.get(`/video/${seg.id}/stream?reason=x`)).status).toBe(403);

  // Coverage: a camera that recorded only two days ago misses every other day of the 90.
  const camera = `cov-${randomUUID().slice(0, 6)}`;
  const twoDaysAgo = shanghaiDate(new Date(Date.now() - 2 * DAY));
  const threeDaysAgo = shanghaiDate(new Date(Date.now() - 3 * DAY));
  const covBytes = videoBytes();
  const noon = `${twoDaysAgo}T12:00:00+08:00`;
  expect((await uploadSegment(maker.token, { camera_id: camera, recorded_start: noon, recorded_end: `${twoDaysAgo}T12:30:00+08:00`, sha256: sha256(covBytes) }, covBytes)).status).toBe(201);
  const coverage = await api(app.url, supervisor.token, 'GET', '/api/video-coverage');
  expect(coverage.status).toBe(200);
  expect(coverage.body.window).toMatchObject({ days: 90, until: shanghaiDate(new Date(Date.now() - DAY)) });
  const mine = coverage.body.makers.find((m: { maker_id: string }) => m.maker_id === makerId);
  const cam = mine.cameras.find((c: { camera_id: string }) => c.camera_id === camera);
  expect(cam.days_with_video).toBe(1);
  expect(cam.days_without_video).toHaveLength(89);
  expect(cam.days_without_video).not.toContain(twoDaysAgo);
  expect(cam.days_without_video).toContain(threeDaysAgo);
  expect(mine.days_without_any_video).not.toContain(twoDaysAgo);
  const otherMakerId = (await app.db('users').where({ id: otherMaker.id }).first('maker_id')).maker_id;
  expect(coverage.body.makers.find((m: { maker_id: string }) => m.maker_id === otherMakerId)).toMatchObject({ cameras: [], days_without_any_video: expect.arrayContaining([threeDaysAgo]) });
  const haidian = await api(app.url, haidianOfficer.token, 'GET', '/api/video-coverage');
  expect(haidian.body.makers.map((m: { maker_id: string }) => m.maker_id)).not.toContain(makerId);
  expect((await api(app.url, maker.token, 'GET', '/api/video-coverage')).status).toBe(403);
  const supervisorBrowser = await browserOf('supervisor', {});
  const coveragePage = await supervisorBrowser.text('/video/coverage');
  expect(coveragePage).toContain(camera);
  expect(coveragePage).toContain('1 / 90');
});

test('M8: a corrupted blob is detected on read and never served (video and materials alike)', async () => {
  const seg = await newSegment('store-01');
  const file = blobPath((await app.db('video_segments').where({ id: seg.id }).first('blob_sha256')).blob_sha256);
  const tampered = Buffer.from(seg.bytes);
  tampered[tampered.length - 1] ^= 0xff; // one bit pattern changed, same size
  await writeFile(file, tampered);

  const viewed = await raw(chaoyangOfficer.token, 'GET', `/api/video-segments/${seg.id}?reason=${encodeURIComponent('核查')}`);
  expect(viewed.status).toBe(500);
  expect(viewed.json.error).toMatchObject({ code: 'BLOB_CORRUPTED' });
  expect(viewed.json.error.message_zh).toContain('已损坏');
  expect(viewed.bytes.includes(tampered.subarray(0, 64))).toBe(false);
  const last = (await accessLog(seg.id)).pop();
  expect(last).toMatchObject({ action: 'view', outcome: 'failed', code: 'BLOB_CORRUPTED', actor_id: chaoyangOfficer.id });

  // An application material (infra/blobs.ts BlobStore) is checked the same way.
  const uscc = makeUscc('110105');
  await api(app.url, admin.token, 'POST', '/api/registration/holders', { uscc, name: `北京存储校验${uscc.slice(-4)}有限公司`, kind: 'enterprise', legal_representative: '吴十', address: '北京市朝阳区光华路1号', district: '110105', registration_date: recentRegistrationDate() });
  const created = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc, name: `北京存储校验${uscc.slice(-4)}有限公司`, kind: 'enterprise', address: '北京市朝阳区光华路1号', district: '110105' },
    seal: { kind: 'business_contract', language: 'zh' },
    handler: { name: '郑十一', id_number: makeResidentId(), phone: '13700137000' },
  });
  expect(created.status).toBe(201);
  const image = Buffer.concat([PNG_BYTES, randomBytes(32)]);
  const material = await upload(app.url, maker.token, created.body.id, 'on_site_image', image, 'onsite.png');
  expect(material.status).toBe(201);
  expect((await raw(maker.token, 'GET', `/api/materials/${material.body.id}`)).bytes.equals(image)).toBe(true);
  const corrupted = Buffer.from(image);
  corrupted[corrupted.length - 1] ^= 0x01;
  await writeFile(blobPath(material.body.sha256), corrupted);
  const read = await raw(maker.token, 'GET', `/api/materials/${material.body.id}`);
  expect(read.status).toBe(500);
  expect(read.bytes.includes(corrupted.subarray(0, 16))).toBe(false);
});

test('M7: the database refuses to delete archive records or to erase their personal data outside an approved disposal; disposal decisions are for supervisors', async () => {
  const makerUser = maker.id;
  const holderId = randomUUID();
  await app.db('holders').insert({ id: holderId, uscc: makeUscc('110105'), name: '北京档案拒绝测试有限公司', kind: 'enterprise', district_code: '110105', address: '北京市朝阳区' });
  const caseId = randomUUID();
  await app.db('cases').insert({ id: caseId, maker_id: makerId, holder_id: holderId, district_code: '110105', status: 'collected', language: 'zh', handler_name: '甲', handler_id_number: makeResidentId(), handler_phone: '13500135000', created_by: makerUser });
  const sealId = randomUUID();
  await app.db('seals').insert({ id: sealId, case_id: caseId, holder_id: holderId, kind: 'personal_name', text: '乙', person_name: '乙', person_id_number: makeResidentId(), status: 'active' });

  const letter = Buffer.concat([PDF_BYTES, randomBytes(8)]);
  await app.db('blobs').insert({ sha256: sha256(letter), content_type: 'application/pdf', size: letter.length });
  await app.db('materials').insert({ id: randomUUID(), case_id: caseId, kind: 'introduction_letter', original_name: 'letter.pdf', blob_sha256: sha256(letter), uploaded_by: makerUser });
  await app.db('case_events').insert({ case_id: caseId, event_key: '0:submitted', type: 'submitted', data: '{}', at: new Date() });

  const rows: Array<[string, Record<string, string>]> = [['cases', { id: caseId }], ['seals', { id: sealId }], ['materials', { case_id: caseId }], ['case_events', { case_id: caseId }], ['blobs', { sha256: sha256(letter) }]];
  for (const [table, where] of rows) await expect(app.db(table).where(where).del()).rejects.toThrow(/M7: \w+ rows belong to seal archives/);
  // The application may not TRUNCATE at all (M5); the owner meets the M7 guard.
  const owner = ownerDb();
  try {
    for (const table of ['filings', 'documents', 'case_events', 'unclaimed_ledger']) await expect(owner.raw('truncate ?? cascade', [table])).rejects.toThrow(/M7/);
  } finally {
    await owner.destroy();
  }
  await expect(app.db('cases').where({ id: caseId }).update({ handler_phone: null })).rejects.toThrow(/only by an approved disposal/);
  await expect(app.db('seals').where({ id: sealId }).update({ person_id_number: null })).rejects.toThrow(/only by an approved disposal/);
  // Other changes to the same rows go on as before.
  await app.db('cases').where({ id: caseId }).update({ handler_phone: '13600136000', status: 'collected' });

  // A live seal's archive has not begun its retention; only supervisors decide disposals.
  expect((await api(app.url, supervisor.token, 'GET', `/api/archives/${sealId}`)).body).toMatchObject({ status: 'live', retain_until: null, disposal_tasks: [], tombstones: [] });
  expect((await api(app.url, chaoyangOfficer.token, 'GET', `/api/archives/${sealId}`)).status).toBe(200);
  expect((await api(app.url, haidianOfficer.token, 'GET', `/api/archives/${sealId}`)).status).toBe(403);
  expect((await api(app.url, maker.token, 'GET', `/api/archives/${sealId}`)).status).toBe(403);
  expect((await api(app.url, chaoyangOfficer.token, 'GET', '/api/archive-disposals')).status).toBe(403);
  expect((await api(app.url, supervisor.token, 'GET', '/api/archive-disposals')).status).toBe(200);
  expect((await api(app.url, supervisor.token, 'GET', '/api/archive-disposals?status=maybe')).body.error.fields).toMatchObject([{ field: 'status' }]);
  expect((await api(app.url, chaoyangOfficer.token, 'POST', `/api/archive-disposals/${randomUUID()}/decision`, { decision: 'approve' })).status).toBe(403);
  const none = await api(app.url, supervisor.token, 'POST', `/api/archive-disposals/${randomUUID()}/decision`, { decision: 'approve' });
  expect(none.status).toBe(404);
  expect(none.body.error.message_zh).toContain('销毁任务不存在');
});

test('M7: a seal stopped through the API starts its archive workflow (archive:<sealId>), kept 5 years on the Shanghai calendar with no disposal task', async () => {
  const { sealId } = await collectedSeal(app, maker, chaoyangOfficer);
  const form = new FormData();
  for (const [k, v] of Object.entries({ kind: 'stop', legal_rep_id_number: makeResidentId(), handler_name: '冯十二', handler_id_number: makeResidentId(), handler_phone: '13600136000' })) form.set(k, v);
  form.set('authorisation_letter', new Blob([PDF_BYTES]), 'letter.pdf');
  const res = await fetch(`${app.url}/api/seals/${sealId}/changes`, { method: 'POST', headers: { authorization: `Bearer ${maker.token}` }, body: form });
  expect(res.status).toBe(201);

  const archive = await eventually('archive', async () => (await api(app.url, supervisor.token, 'GET', `/api/archives/${sealId}`)).body, (b) => b.status === 'retained');
  const seal = await app.db('seals').where({ id: sealId }).first('stopped_at');
  expect(archive).toMatchObject({ end_kind: 'stopped', policy: 'P5Y', workflow_id: `archive:${sealId}`, disposal_tasks: [] });
  expect(new Date(archive.ended_at).getTime()).toBe(new Date(seal.stopped_at).getTime());
  // Five calendar years after the latest end or record, to the end of that Shanghai day.
  const lastRecord = await app.db('case_events').whereIn('case_id', app.db('cases').where({ subject_seal_id: sealId }).select('id')).max({ at: 'at' }).first();
  const base = new Date(Math.max(new Date(seal.stopped_at).getTime(), new Date(lastRecord?.at ?? 0).getTime()));
  expect(new Date(archive.retain_until).getTime()).toBeGreaterThanOrEqual(shanghaiEndOfDay(shanghaiDate(addIsoDuration(new Date(seal.stopped_at), 'P5Y'))).getTime());
  expect(new Date(archive.retain_until).getTime()).toBeLessThanOrEqual(shanghaiEndOfDay(shanghaiDate(addIsoDuration(new Date(base.getTime() + 60_000), 'P5Y'))).getTime());
  const description = await app.temporalClient.workflow.getHandle(`archive:${sealId}`).describe();
  expect(description).toMatchObject({ type: 'archiveRetentionWorkflow', status: { name: 'RUNNING' } });
  expect((await api(app.url, supervisor.token, 'GET', '/api/archive-disposals')).body.map((t: { seal_id: string }) => t.seal_id)).not.toContain(sealId);
});

test('M8: a segment named in Chinese keeps its name; a cut-off upload body is refused as malformed (400, in Chinese and English) and nothing of it is kept', async () => {
  const bytes = videoBytes();
  const named = await uploadSegment(maker.token, { camera_id: 'hall-zh', ...times(), sha256: sha256(bytes) }, bytes, '大厅录像.mp4');
  expect(named.status).toBe(201);
  expect(named.body.original_name).toBe('大厅录像.mp4');

  // The form stops in the middle of the file: no closing boundary.
  const cut = videoBytes();
  const boundary = `----f7${randomUUID()}`;
  const head = [`--${boundary}`, 'Content-Disposition: form-data; name="camera_id"', '', 'hall-cut', `--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="cut.mp4"', 'Content-Type: video/mp4', '', ''].join('\r\n');
  const res = await fetch(`${app.url}/api/video-segments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${maker.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Buffer.concat([Buffer.from(head), cut]),
  });
  expect(res.status).toBe(400);
  const body = (await res.json()) as any;
  expect(body.error).toMatchObject({ code: 'malformed_multipart', message_zh: '上传内容格式有误' });
  expect(body.error.message_en).toContain('Malformed multipart upload');
  await expect(readFile(blobPath(sha256(cut)))).rejects.toMatchObject({ code: 'ENOENT' });
  expect(await app.db('video_segments').where({ maker_id: makerId, camera_id: 'hall-cut' })).toHaveLength(0);
  await eventually('staged segments removed', () => readdir(processTempDir(path.join(app.config.runtime.dataDir, 'staging', 'video'))), (left) => left.length === 0);
});
