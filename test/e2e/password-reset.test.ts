// C3 in a real browser (Debian chromium through playwright-core) against the real app: an approved reset reaches
// the holder's accounts as a message — e-mail read back from mailpit, the web inbox — whose one-time link opens
// the reset page; the keeper proves identity with the ID number and a code that arrives at the SMS gateway
// (the delivery path of infra/notify, to the phone registered with the request), then sets the password.
// Wrong ID numbers and codes count and lock; links and codes are single-use, expire and are stored hashed.
//   node --import tsx scripts/with-stack.ts -- npx jest test/e2e/password-reset.test.ts
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { createMaker, makeResidentId, makeUscc } from '../helpers/fixtures';
import { freePorts } from '../helpers/ports';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { eventually } from '../helpers/wait';
import { resetLinkState } from '../../usecases/password-reset-page';
import { browserUser, launch, loginAs, shot, type TestUser } from './browser';

jest.setTimeout(120_000);

let app: RunningApp;
let browser: Browser;
let gateway: Server;
const sms: Array<{ to: string; text: string }> = [];

beforeAll(async () => {
  gateway = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      sms.push(JSON.parse(raw));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `sms-${sms.length}` }));
    });
  });
  const [port] = await freePorts(1);
  await new Promise<void>((resolve) => gateway.listen(port, '127.0.0.1', resolve));
  process.env.ESEAL_NOTIFY_CHANNELS = 'inbox,email';
  process.env.ESEAL_NOTIFY_SMS_URL = `http://127.0.0.1:${port}/send`;
  [app, browser] = await Promise.all([startApp({ taskQueueSuffix: `-reset-${randomUUID().slice(0, 8)}` }), launch()]);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await new Promise((resolve) => gateway?.close(resolve));
  delete process.env.ESEAL_NOTIFY_CHANNELS;
  delete process.env.ESEAL_NOTIFY_SMS_URL;
});

const mailpit = () => `http://127.0.0.1:${app.config.notify.mailpit.uiPort}`;
/** The reset page's link in the newest mail to `address` (mailpit's HTTP API). */
async function linkInMail(address: string): Promise<string> {
  const found = await eventually(
    `a mail to ${address}`,
    async () => ((await (await fetch(`${mailpit()}/api/v1/search?query=${encodeURIComponent(`to:"${address}"`)}`)).json()) as { messages: Array<{ ID: string; Subject: string }> }).messages,
    (m) => m.length > 0,
    30_000,
  );
  expect(found[0].Subject).toBe('保护口令重置已获批准 / Password reset approved');
  const text = ((await (await fetch(`${mailpit()}/api/v1/message/${found[0].ID}`)).json()) as { Text: string }).Text;
  const url = /(http:\/\/\S+\/password-reset\/[A-Za-z0-9_-]{43})\b/.exec(text);
  expect(url).not.toBeNull();
  return url![1];
}
const codeTo = (phone: string, n: number) => eventually(`SMS ${n} to ${phone}`, async () => sms.filter((s) => s.to === phone), (s) => s.length >= n, 10_000).then((s) => /验证码 (\d{6})/.exec(s[n - 1].text)![1]);

/**
 * A live seal with a keeper and a protection password. The seal's rows are written as an issued seal's are (its
 * production is other tests' subject): the reset needs the seal, its keeper and its password only.
 */
async function sealWithKeeper(maker: { id: string }, makerId: string) {
  const holderId = randomUUID();
  const uscc = makeUscc('110105');
  await app.db('holders').insert({ id: holderId, uscc, name: `北京重置测试有限公司${holderId.slice(0, 4)}`, kind: 'enterprise', district_code: '110105', address: '北京市朝阳区光华路1号' });
  const caseId = randomUUID();
  await app.db('cases').insert({ id: caseId, maker_id: makerId, holder_id: holderId, district_code: '110105', status: 'collected', language: 'zh', handler_name: '赵六', handler_id_number: makeResidentId(), handler_phone: '13800138000', created_by: maker.id });
  const sealId = randomUUID();
  await app.db('seals').insert({ id: sealId, case_id: caseId, holder_id: holderId, kind: 'business_contract', number: 1, text: '北京重置测试有限公司', status: 'active', seal_code: `1101050${String(randomInt(1_000_000)).padStart(6, '0')}`, collected_at: new Date() });
  const staff = await createUser(app.db, 'holder', { holder_id: holderId });
  const keeperId = makeResidentId('19810203');
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${sealId}/keepers`, { name: '陈保管', id_number: keeperId })).status).toBe(201);
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${sealId}/password`, { id_number: keeperId, password: 'Tiger#Lake2049x' })).status).toBe(201);
  return { sealId, holderId, staff, keeperId };
}

/** A reset requested for the keeper (with the phone to send codes to) and approved by the officer; its message delivered. */
async function approvedReset(officer: { token: string }, seal: Awaited<ReturnType<typeof sealWithKeeper>>, phone: string) {
  const requested = await api(app.url, seal.staff.token, 'POST', `/api/seals/${seal.sealId}/password/reset-requests`, { id_number: seal.keeperId, phone, reason: '保管人遗忘口令' });
  expect(requested.status).toBe(201);
  const caseId: string = requested.body.case_id;
  const task = await eventually(
    'the officer reset task',
    async () => ((await api(app.url, officer.token, 'GET', '/api/tasks?kind=password_reset_approval')).body as Array<{ id: string; case_id: string }>).find((t) => t.case_id === caseId),
    (t) => !!t,
    30_000,
  );
  const approved = await api(app.url, officer.token, 'POST', `/api/tasks/${task!.id}/decision`, { decision: 'accept' });
  expect(approved.status).toBe(200);
  expect(JSON.stringify(approved.body)).not.toMatch(/password-reset/); // the officer is handed no link
  const message = await eventually('the reset message delivered', () => app.db('outbox_messages').where({ case_id: caseId, kind: 'password_reset_link' }).first(), (m) => m?.sent_at != null, 30_000);
  return { caseId, message };
}

test('C3 C2: the approved reset reaches the holder by e-mail and inbox; the keeper proves identity with the ID number and an SMS code on the one-time page and sets the password', async () => {
  const makerId = await createMaker(app.db);
  const maker = await createUser(app.db, 'maker', { maker_id: makerId });
  const officer = await createUser(app.db, 'officer', { district_code: '110105' });
  const phone = `135${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const seal = await sealWithKeeper(maker, makerId);
  // The holder's accounts: one with an e-mail address, one for the browser (inbox only).
  const email = `reset-${randomUUID().slice(0, 8)}@example.cn`;
  const mailed = await createUser(app.db, 'holder', { holder_id: seal.holderId });
  await app.db('users').where({ id: mailed.id }).update({ email });
  const clerk: TestUser = await browserUser(app.db, 'holder', { holder_id: seal.holderId });
  const first = { ...seal, ...(await approvedReset(officer, seal, phone)) };
  const message = first.message;
  expect(message.link_path).toBe(`/password-reset/cases/${first.caseId}`);
  expect(message.body).toContain('短信验证码');

  const mailLink = await linkInMail(email).catch(async () => {
    throw new Error(`no mail: deliveries ${JSON.stringify(await app.db('message_deliveries').where({ message_id: message.id }))}`);
  });
  const mailToken = mailLink.split('/').pop()!;
  // The mail names the configured web address; this test's app listens on its own port.
  const mailPage = `${app.url}/password-reset/${mailToken}`;
  // Only the token's SHA-256 is stored; the message holds no token.
  const links = await app.db('password_reset_links').where({ case_id: first.caseId });
  expect(links.map((l) => l.token_sha256)).toContain(createHash('sha256').update(mailToken).digest('hex'));
  expect(JSON.stringify(await app.db('outbox_messages').where({ id: message.id }))).not.toContain(mailToken);
  // The link expires: the same page a day and an hour later refuses it.
  await expect(resetLinkState(app, mailToken, new Date(Date.now() + 25 * 3600_000))).rejects.toMatchObject({ httpStatus: 410, code: 'RESET_LINK_EXPIRED' });

  // The mailed link in a browser without any login: a wrong ID number counts.
  const anon = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await anon.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(mailPage);
  expect(await page.locator('main').innerText()).toContain('重置印章保护口令');
  await shot(page, 'password-reset-id');
  await page.locator('#f-id_number').fill(makeResidentId('19700101'));
  await page.getByRole('button', { name: '发送短信验证码' }).click();
  expect(await page.locator('main').innerText()).toContain('与申请重置的保管人不符（再错4次将锁定此次重置）');
  expect(sms.filter((s) => s.to === phone)).toHaveLength(0);
  await anon.close();

  // The inbox: the clerk opens the message's link, which mints a fresh one-time link for the keeper.
  const { context, page: inbox } = await loginAs(browser, app.url, clerk);
  await inbox.goto('/inbox');
  const item = inbox.locator('li[data-kind="password_reset_link"]');
  expect(await item.innerText()).toContain('重置已获批准');
  await shot(inbox, 'holder-inbox-reset-approved');
  await item.getByRole('link', { name: '查看' }).click();
  await inbox.waitForURL(/\/password-reset\/[A-Za-z0-9_-]{43}$/);
  const inboxToken = new URL(inbox.url()).pathname.split('/').pop()!;
  expect(inboxToken).not.toBe(mailToken);
  await inbox.locator('#f-id_number').fill(first.keeperId);
  await inbox.getByRole('button', { name: '发送短信验证码' }).click();
  await inbox.getByTestId('code-sent').waitFor();
  expect(await inbox.getByTestId('code-sent').innerText()).toContain(`${phone.slice(0, 3)}****${phone.slice(-4)}`);
  const code = await codeTo(phone, 1);
  // The code is stored as an argon2id hash only.
  const grant = await app.db('password_reset_grants').where({ case_id: first.caseId }).first();
  expect(grant.code_hash).toMatch(/^\$argon2id\$/);
  expect(JSON.stringify(grant)).not.toContain(code);
  await shot(inbox, 'password-reset-code');
  // A wrong code counts (the wrong ID number before it too).
  const wrong = code === '000000' ? '111111' : '000000';
  await inbox.locator('#f-code').fill(wrong);
  await inbox.locator('#f-password').fill('Mu7!qZ_p0rT9');
  await inbox.locator('#f-confirm_password').fill('Mu7!qZ_p0rT9');
  await inbox.getByRole('button', { name: '设置新口令' }).click();
  expect(await inbox.locator('main').innerText()).toContain('验证码不正确（再错3次将锁定此次重置）');
  await inbox.locator('#f-code').fill(code);
  await inbox.locator('#f-password').fill('Mu7!qZ_p0rT9');
  await inbox.locator('#f-confirm_password').fill('Mu7!qZ_p0rT9');
  await inbox.getByRole('button', { name: '设置新口令' }).click();
  await inbox.getByTestId('reset-done').waitFor();
  await shot(inbox, 'password-reset-done');
  await context.close();

  // The new password signs; the link, the mailed link and the code are spent.
  const pw = await app.db('protection_passwords').where({ seal_id: first.sealId }).first();
  expect(pw.failed_attempts).toBe(0);
  expect(new Date(pw.set_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
  expect((await api(app.url, null, 'POST', `/api/password-reset/${inboxToken}`, { code, password: 'Zz9#kx3Lp!vW' })).body.error.code).toBe('RESET_LINK_USED');
  const again = await fetch(mailPage);
  expect(again.status).toBe(410);
  expect(await again.text()).toContain('重置链接已使用过');

  // A second approved reset of the same seal: five wrong proofs lock it.
  const second = { ...seal, ...(await approvedReset(officer, seal, phone)) };
  const sessionless = await createUser(app.db, 'holder', { holder_id: seal.holderId });
  // Through the JSON API this time (its link comes from the holder's inbox, as in the browser).
  const minted = await fetch(`${app.url}/password-reset/cases/${second.caseId}`, { redirect: 'manual', headers: { authorization: `Bearer ${sessionless.token}` } });
  expect(minted.status).toBe(303);
  const token = /\/password-reset\/([A-Za-z0-9_-]{43})$/.exec(minted.headers.get('location') ?? '')?.[1];
  expect(token).toBeDefined();
  // Another holder's staff cannot mint one.
  const admin = await createUser(app.db, 'admin');
  const uscc = makeUscc('110105');
  const otherHolder = await api(app.url, admin.token, 'POST', '/api/registration/holders', { uscc, name: `北京别家${uscc.slice(-5)}有限公司`, kind: 'enterprise', legal_representative: '吴十', address: '北京市朝阳区光华路2号', district: '110105', registration_date: '2026-11-01' });
  const stranger = await createUser(app.db, 'holder', { holder_id: (await app.db('holders').where({ uscc }).first('id')).id });
  expect(otherHolder.status).toBeLessThan(300);
  expect((await fetch(`${app.url}/password-reset/cases/${second.caseId}`, { redirect: 'manual', headers: { authorization: `Bearer ${stranger.token}` } })).status).toBe(403);
  const missing = await api(app.url, null, 'POST', `/api/password-reset/${token}/code`, {});
  expect(missing.status).toBe(400);
  expect(missing.body.error.fields[0].field).toBe('id_number');
  expect((await api(app.url, null, 'POST', `/api/password-reset/${token}/code`, { id_number: second.keeperId })).status).toBe(200);
  const secondCode = await codeTo(phone, 2);
  const bad = secondCode === '000000' ? '111111' : '000000';
  for (let left = 4; left >= 1; left--) {
    const r = await api(app.url, null, 'POST', `/api/password-reset/${token}`, { code: bad, password: 'Zz9#kx3Lp!vW' });
    expect(r.status).toBe(422);
    expect(JSON.stringify(r.body)).toContain(`${left} more wrong attempts`);
  }
  const locked = await api(app.url, null, 'POST', `/api/password-reset/${token}`, { code: bad, password: 'Zz9#kx3Lp!vW' });
  expect(locked.status).toBe(410);
  expect(locked.body.error.code).toBe('RESET_LOCKED');
  expect((await api(app.url, null, 'POST', `/api/password-reset/${token}`, { code: secondCode, password: 'Zz9#kx3Lp!vW' })).body.error.code).toBe('RESET_LOCKED');
  expect((await app.db('case_events').where({ case_id: second.caseId, type: 'password_reset_locked' })).length).toBe(1);
});
