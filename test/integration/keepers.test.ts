// Keepers and protection passwords (C1–C3, U1) on the real PostgreSQL, through the JSON API of
// web/routes/keepers.ts in the real app (with its workers), and the internal use-cases (checkMaySign,
// approvePasswordReset) the seal's workflow calls. Seals are inserted directly as issued ('active'); the
// way there is tested in application.test.ts.
import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { Db } from '../../infra/db';

import { checkMaySign } from '../../usecases/protection-passwords';
import { approvePasswordReset } from '../../activities/password-reset-link';
import { mintResetLink } from '../../infra/reset-links';
import { personalData } from '../../infra/crypto/personal-data';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc } from '../helpers/fixtures';


let db: Db;
let app: RunningApp;
let url: string;
let makerId: string;
let maker: { id: string; token: string };
let otherMaker: { id: string; token: string };
let haidian: { id: string; token: string };
let chaoyang: { id: string; token: string };
let supervisor: { id: string; token: string };

const MIN = 60_000;
const DAY = 86_400_000;
const GOOD = 'Tiger#Lake2049x';
const GOOD2 = 'Mu7!qZ_p0rT9';
const GOOD3 = 'Zz9#kx3Lp!vW';

beforeAll(async () => {
  app = await startApp();

  db = app.db;
  url = app.url;
  makerId = await createMaker(db);
  maker = await createUser(db, 'maker', { maker_id: makerId });
  otherMaker = await createUser(db, 'maker', { maker_id: await createMaker(db) });
  haidian = await createUser(db, 'officer', { district_code: '110108' });
  chaoyang = await createUser(db, 'officer', { district_code: '110105' });
  supervisor = await createUser(db, 'supervisor');
});
afterAll(async () => {
  await app?.stop();
  await db?.destroy();
});

/** An issued ('active') contract seal of a new Haidian enterprise, and a login of that holder's staff. */
async function activeSeal() {
  const holderId = randomUUID();
  const uscc = makeUscc('110108');
  await db('holders').insert({ id: holderId, uscc, name: `北京保管测试有限公司${holderId.slice(0, 4)}`, kind: 'enterprise', district_code: '110108', address: '北京市海淀区中关村大街1号' });
  const caseId = randomUUID();
  await db('cases').insert({ id: caseId, maker_id: makerId, holder_id: holderId, district_code: '110108', status: 'collected', language: 'zh', handler_name: '赵六', handler_id_number: makeResidentId(), handler_phone: '13800138000', created_by: maker.id });
  const sealId = randomUUID();
  const sealCode = `1101080${String(randomInt(1_000_000)).padStart(6, '0')}`;
  await db('seals').insert({ id: sealId, case_id: caseId, holder_id: holderId, kind: 'business_contract', number: 1, text: '北京保管测试有限公司', status: 'active', seal_code: sealCode, collected_at: new Date() });
  const staff = await createUser(db, 'holder', { holder_id: holderId });
  return { sealId, caseId, holderId, uscc, sealCode, staff };
}

/** A seal with one keeper whose initial password is set. */
async function sealWithPassword(password = GOOD) {
  const s = await activeSeal();
  const keeperId = makeResidentId('19880101');
  expect((await api(url, s.staff.token, 'POST', `/api/seals/${s.sealId}/keepers`, { name: '孙保管', id_number: keeperId })).status).toBe(201);
  expect((await api(url, s.staff.token, 'POST', `/api/seals/${s.sealId}/password`, { id_number: keeperId, password })).status).toBe(201);
  return { ...s, keeperId };
}

test('C1 P3: holder staff name keepers of their own seals (validated); the maker, district officers and supervisors list them', async () => {
  const s = await activeSeal();
  const other = await activeSeal();
  const keeperId = makeResidentId('19800101');
  const path = `/api/seals/${s.sealId}/keepers`;

  const invalid = await api(url, s.staff.token, 'POST', path, { name: '', id_number: keeperId.slice(0, 17) + (keeperId[17] === '0' ? '1' : '0') });
  expect(invalid.status).toBe(400);
  expect(invalid.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['id_number', 'name']);
  expect(invalid.body.error.fields.find((f: { field: string }) => f.field === 'id_number').message_zh).toMatch(/^保管人身份证件号码：校验码错误/);

  expect((await api(url, other.staff.token, 'POST', path, { name: '钱保管', id_number: keeperId })).status).toBe(403);
  expect((await api(url, maker.token, 'POST', path, { name: '钱保管', id_number: keeperId })).status).toBe(403);
  expect((await api(url, haidian.token, 'POST', path, { name: '钱保管', id_number: keeperId })).status).toBe(403);

  const named = await api(url, s.staff.token, 'POST', path, { name: '钱保管', id_number: keeperId });
  expect(named.status).toBe(201);
  expect(named.body).toMatchObject({ name: '钱保管', id_number_masked: `${keeperId.slice(0, 6)}********${keeperId.slice(14)}` });
  expect(JSON.stringify(named.body)).not.toContain(keeperId);
  const again = await api(url, s.staff.token, 'POST', path, { name: '钱保管', id_number: keeperId.toLowerCase() });
  expect(again.status).toBe(409);
  expect(again.body.error.fields[0].field).toBe('id_number');
  expect((await api(url, s.staff.token, 'POST', path, { name: '李保管', id_number: makeResidentId('19900202') })).status).toBe(201);

  for (const who of [s.staff, maker, haidian, supervisor]) {
    const list = await api(url, who.token, 'GET', path);
    expect(list.status).toBe(200);
    expect(list.body.keepers.map((k: { name: string }) => k.name)).toEqual(['钱保管', '李保管']);
    expect(list.body.password).toMatchObject({ set: false });
    expect(JSON.stringify(list.body)).not.toContain(keeperId);
  }
  for (const who of [chaoyang, otherMaker, other.staff]) expect((await api(url, who.token, 'GET', path)).status).toBe(403);
  expect((await api(url, null, 'GET', path)).status).toBe(401);
  expect((await api(url, s.staff.token, 'GET', `/api/seals/${randomUUID()}/keepers`)).status).toBe(404);

  // Every change is on the seal's timeline, without the ID number in clear.
  const events = await db('case_events').where({ case_id: s.caseId }).select('type', 'data', 'actor_id');
  expect(events.filter((e) => e.type === 'keeper_named')).toHaveLength(2);
  expect(JSON.stringify(events)).not.toContain(keeperId);
});

test('C1 C2 U1: only a keeper signs, with the seal\'s password, while the seal is active', async () => {
  const s = await activeSeal();
  const keeperId = makeResidentId('19810303');
  const stranger = makeResidentId('19820404');
  await api(url, s.staff.token, 'POST', `/api/seals/${s.sealId}/keepers`, { name: '周保管', id_number: keeperId });

  // Before any password: no signing.
  expect(await checkMaySign(app, s.sealId, keeperId, GOOD)).toMatchObject({ allowed: false, reason: 'no_password' });

  // The initial password: policy checked (naming the field), only by a keeper, only once.
  const weak = await api(url, s.staff.token, 'POST', `/api/seals/${s.sealId}/password`, { id_number: keeperId, password: `Ab#${s.sealCode}` });
  expect(weak.status).toBe(400);
  expect(weak.body.error.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'password', message_zh: '保护口令：不能包含印章编码' })]));
  expect(weak.body.error.fields.every((f: { field: string }) => f.field === 'password')).toBe(true);
  expect(JSON.stringify(weak.body)).not.toContain(s.sealCode);
  const notKeeper = await api(url, s.staff.token, 'POST', `/api/seals/${s.sealId}/password`, { id_number: stranger, password: GOOD });
  expect(notKeeper.status).toBe(422);
  expect(notKeeper.body.error.fields[0].field).toBe('id_number');
  expect((await api(url, otherMaker.token, 'POST', `/api/seals/${s.sealId}/password`, { id_number: keeperId, password: GOOD })).status).toBe(403);
  const set = await api(url, maker.token, 'POST', `/api/seals/${s.sealId}/password`, { id_number: keeperId, password: GOOD }); // at collection, at the maker
  expect(set.status).toBe(201);
  expect(set.body).toMatchObject({ set: true, expired: false, locked_until: null });
  expect(new Date(set.body.expires_at).getTime() - new Date(set.body.set_at).getTime()).toBe(90 * DAY); // durations.passwordExpiry
  expect(set.body.reminders.map((r: { days_before: number }) => r.days_before)).toEqual([14, 7, 1]);
  expect((await api(url, s.staff.token, 'POST', `/api/seals/${s.sealId}/password`, { id_number: keeperId, password: GOOD2 })).status).toBe(409);

  expect(await checkMaySign(app, s.sealId, keeperId, GOOD)).toEqual({ allowed: true });
  expect(await checkMaySign(app, s.sealId, keeperId.toLowerCase(), GOOD)).toEqual({ allowed: true });
  expect(await checkMaySign(app, s.sealId, stranger, GOOD)).toMatchObject({ allowed: false, reason: 'not_keeper' });
  expect(await checkMaySign(app, s.sealId, keeperId, GOOD2)).toMatchObject({ allowed: false, reason: 'wrong_password', attemptsLeft: 4 });
  expect(await checkMaySign(app, s.sealId, keeperId, GOOD)).toEqual({ allowed: true }); // and the counter is cleared
  expect((await db('protection_passwords').where({ seal_id: s.sealId }).first()).failed_attempts).toBe(0);

  // C2: once expired, the keeper must change it first (told only with the right password).
  expect(await checkMaySign(app, s.sealId, keeperId, GOOD, new Date(Date.now() + 91 * DAY))).toMatchObject({ allowed: false, reason: 'password_expired' });

  // U1: a suspended or cancelled seal cannot sign, whoever asks.
  for (const status of ['suspended', 'stopped', 'cancelled']) {
    await db('seals').where({ id: s.sealId }).update({ status });
    expect(await checkMaySign(app, s.sealId, keeperId, GOOD)).toMatchObject({ allowed: false, reason: 'not_live', zh: expect.stringContaining('不能签章') });
  }
  await db('seals').where({ id: s.sealId }).update({ status: 'active' });
  expect(await checkMaySign(app, s.sealId, keeperId, GOOD)).toEqual({ allowed: true });
});

test('C2: the password is stored only as an argon2id hash and appears nowhere in PostgreSQL', async () => {
  const s = await sealWithPassword(GOOD);
  const { rows } = await db.raw('select * from protection_passwords where seal_id = ?', [s.sealId]);
  expect(rows).toHaveLength(1);
  expect(rows[0].hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  const row = JSON.stringify(rows[0]);
  for (const form of [GOOD, GOOD.toLowerCase(), Buffer.from(GOOD).toString('hex'), Buffer.from(GOOD).toString('base64')]) expect(row).not.toContain(form);
  const events = await db('case_events').where({ case_id: s.caseId });
  expect(JSON.stringify(events)).not.toContain(GOOD);
  expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['keeper_named', 'protection_password_set']));
  // A second seal with the same password has a different hash (salted).
  const t = await sealWithPassword(GOOD);
  expect((await db('protection_passwords').where({ seal_id: t.sealId }).first()).hash).not.toBe(rows[0].hash);
});

test('C2: five wrong passwords lock for 15 minutes; during the lock even the right one is not checked', async () => {
  const s = await sealWithPassword(GOOD);
  const t0 = new Date();
  for (let i = 1; i <= 4; i++) {
    expect(await checkMaySign(app, s.sealId, s.keeperId, `Wrong#Pass${i}x`, t0)).toMatchObject({ allowed: false, reason: 'wrong_password', attemptsLeft: 5 - i });
  }
  const fifth = await checkMaySign(app, s.sealId, s.keeperId, 'Wrong#Pass5x', t0);
  expect(fifth).toMatchObject({ allowed: false, reason: 'locked' });
  const row = await db('protection_passwords').where({ seal_id: s.sealId }).first();
  expect(row.failed_attempts).toBe(5);
  expect(row.locked_until.getTime() - t0.getTime()).toBe(15 * MIN);

  expect(await checkMaySign(app, s.sealId, s.keeperId, GOOD, new Date(t0.getTime() + 14 * MIN))).toMatchObject({ allowed: false, reason: 'locked' });
  expect((await db('protection_passwords').where({ seal_id: s.sealId }).first()).failed_attempts).toBe(5); // not counted
  const list = await api(url, s.staff.token, 'GET', `/api/seals/${s.sealId}/keepers`);
  expect(list.body.password.locked_until).toBeTruthy();

  // After the lock the right password works and clears the counter.
  expect(await checkMaySign(app, s.sealId, s.keeperId, GOOD, new Date(t0.getTime() + 15 * MIN))).toEqual({ allowed: true });
  expect(await db('protection_passwords').where({ seal_id: s.sealId }).first('failed_attempts', 'locked_until')).toEqual({ failed_attempts: 0, locked_until: null });

  // Concurrent guesses are counted one by one (row lock): 5 parallel wrong passwords lock it.
  const t1 = new Date(t0.getTime() + 20 * MIN);
  const results = await Promise.all([1, 2, 3, 4, 5].map((i) => checkMaySign(app, s.sealId, s.keeperId, `Parallel#Guess${i}`, t1)));
  expect(results.filter((r) => !r.allowed && r.reason === 'locked')).toHaveLength(1);
  expect(await checkMaySign(app, s.sealId, s.keeperId, GOOD, t1)).toMatchObject({ reason: 'locked' });
});

test('C2: a keeper changes the password with the current one; wrong current passwords count towards the lockout', async () => {
  const s = await sealWithPassword(GOOD);
  const path = `/api/seals/${s.sealId}/password/change`;
  const weak = await api(url, s.staff.token, 'POST', path, { id_number: s.keeperId, old_password: GOOD, password: 'short' });
  expect(weak.status).toBe(400);
  expect(weak.body.error.fields.every((f: { field: string }) => f.field === 'password')).toBe(true);
  const same = await api(url, s.staff.token, 'POST', path, { id_number: s.keeperId, old_password: GOOD, password: GOOD });
  expect(same.status).toBe(400);
  expect(same.body.error.code).toBe('PASSWORD_REUSED');
  expect((await api(url, maker.token, 'POST', path, { id_number: s.keeperId, old_password: GOOD, password: GOOD2 })).status).toBe(403);

  const changed = await api(url, s.staff.token, 'POST', path, { id_number: s.keeperId, old_password: GOOD, password: GOOD2 });
  expect(changed.status).toBe(200);
  expect(changed.body).toMatchObject({ set: true, expired: false });
  expect(await checkMaySign(app, s.sealId, s.keeperId, GOOD)).toMatchObject({ reason: 'wrong_password' });
  expect(await checkMaySign(app, s.sealId, s.keeperId, GOOD2)).toEqual({ allowed: true });

  for (let i = 1; i <= 4; i++) {
    const wrong = await api(url, s.staff.token, 'POST', path, { id_number: s.keeperId, old_password: `Wrong#Pass${i}x`, password: GOOD3 });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: 'WRONG_PASSWORD', fields: [expect.objectContaining({ field: 'old_password' })], details: { attempts_left: 5 - i } });
  }
  const locked = await api(url, s.staff.token, 'POST', path, { id_number: s.keeperId, old_password: 'Wrong#Pass5x', password: GOOD3 });
  expect(locked.status).toBe(423);
  expect(locked.body.error.code).toBe('PASSWORD_LOCKED');
  expect((await api(url, s.staff.token, 'POST', path, { id_number: s.keeperId, old_password: GOOD2, password: GOOD3 })).status).toBe(423);
  expect(await checkMaySign(app, s.sealId, s.keeperId, GOOD2)).toMatchObject({ reason: 'locked' });
});

test('C1 C2: a removed keeper can no longer sign, and the password they knew expires for the others', async () => {
  const s = await sealWithPassword(GOOD);
  const second = makeResidentId('19770707');
  await api(url, s.staff.token, 'POST', `/api/seals/${s.sealId}/keepers`, { name: '吴保管', id_number: second });
  expect(await checkMaySign(app, s.sealId, second, GOOD)).toEqual({ allowed: true });

  expect((await api(url, s.staff.token, 'DELETE', `/api/seals/${s.sealId}/keepers`, {})).status).toBe(400);
  expect((await api(url, maker.token, 'DELETE', `/api/seals/${s.sealId}/keepers`, { id_number: s.keeperId })).status).toBe(403);
  const removed = await api(url, s.staff.token, 'DELETE', `/api/seals/${s.sealId}/keepers`, { id_number: s.keeperId });
  expect(removed.status).toBe(200);
  expect(removed.body).toMatchObject({ name: '孙保管', password_expired: true });
  expect((await api(url, s.staff.token, 'DELETE', `/api/seals/${s.sealId}/keepers`, { id_number: s.keeperId })).status).toBe(404);

  expect(await checkMaySign(app, s.sealId, s.keeperId, GOOD)).toMatchObject({ reason: 'not_keeper' });
  expect(await checkMaySign(app, s.sealId, second, GOOD)).toMatchObject({ reason: 'password_expired' });
  expect((await api(url, s.staff.token, 'POST', `/api/seals/${s.sealId}/password/change`, { id_number: s.keeperId, old_password: GOOD, password: GOOD2 })).status).toBe(422);
  expect((await api(url, s.staff.token, 'POST', `/api/seals/${s.sealId}/password/change`, { id_number: second, old_password: GOOD, password: GOOD2 })).status).toBe(200);
  expect(await checkMaySign(app, s.sealId, second, GOOD2)).toEqual({ allowed: true });
  const list = await api(url, s.staff.token, 'GET', `/api/seals/${s.sealId}/keepers`);
  expect(list.body.keepers.map((k: { name: string }) => k.name)).toEqual(['吴保管']);
});

test('C3 P3: a reset needs an application in the holder\'s district; an approval\'s links expire after 24 hours', async () => {
  const s = await sealWithPassword(GOOD);
  const other = await activeSeal();
  const path = `/api/seals/${s.sealId}/password/reset-requests`;
  const body = { id_number: s.keeperId, phone: '13900139000', reason: '保管人遗忘保护口令' };

  const missing = await api(url, s.staff.token, 'POST', path, { id_number: s.keeperId });
  expect(missing.status).toBe(400);
  expect(missing.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['phone', 'reason']);
  expect((await api(url, other.staff.token, 'POST', path, body)).status).toBe(403);
  expect((await api(url, haidian.token, 'POST', path, body)).status).toBe(403);
  expect((await api(url, s.staff.token, 'POST', path, { ...body, id_number: makeResidentId('19700101') })).status).toBe(422);

  const requested = await api(url, s.staff.token, 'POST', path, body);
  expect(requested.status).toBe(201);
  expect(requested.body).toMatchObject({ kind: 'password_reset', status: 'submitted', district_code: '110108', seal_id: s.sealId });
  const caseRow = await db('cases').where({ id: requested.body.case_id }).first();
  expect(caseRow).toMatchObject({ kind: 'password_reset', subject_seal_id: s.sealId, district_code: '110108', holder_id: s.holderId, handler_id_number: expect.stringMatching(/^pd2:/), request_reason: '保管人遗忘保护口令' });
  // P1: the keeper's ID number is stored encrypted; the case finds its keeper by the keyed hash.
  expect(caseRow.handler_id_number_hmac).toBe(await personalData(app).idLookupHash(s.keeperId));

  // Only a password_reset case can be approved.
  await expect(approvePasswordReset(db, s.caseId)).rejects.toMatchObject({ httpStatus: 404 });

  // An approval 25 hours old has expired (durations.resetLinkValidity, PT24H): no link can be minted from it
  // any more, and a link minted while it was open is refused. Approving again leaves the grant as it was.
  const then = new Date(Date.now() - 25 * 3600_000);
  const old = await approvePasswordReset(db, requested.body.case_id, then, 'PT24H');
  expect(old.expiresAt.getTime()).toBe(then.getTime() + 24 * 3600_000);
  expect(await approvePasswordReset(db, requested.body.case_id)).toEqual(old);
  const early = await mintResetLink(db, requested.body.case_id, 'test', new Date(then.getTime() + MIN));
  expect(early).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(await mintResetLink(db, requested.body.case_id, 'test')).toBeNull();
  const links = await db('password_reset_links').where({ case_id: requested.body.case_id });
  expect(links.map((l) => l.token_sha256)).toEqual([createHash('sha256').update(early!).digest('hex')]);
  expect(JSON.stringify(links)).not.toContain(early);
  const expired = await api(url, null, 'POST', `/api/password-reset/${early}/code`, { id_number: s.keeperId });
  expect(expired.status).toBe(410);
  expect(expired.body.error.code).toBe('RESET_LINK_EXPIRED');
  expect((await api(url, null, 'POST', `/api/password-reset/${'A'.repeat(43)}`, { code: '123456', password: GOOD3 })).status).toBe(404);
  // The rest of the reset (the ID number, the SMS code, the new password) is test/e2e/password-reset.test.ts.
  const timeline = await db('case_events').where({ case_id: s.caseId }).pluck('type');
  expect(timeline).toContain('protection_password_reset_requested');
});
