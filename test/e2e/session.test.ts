// P1: local accounts in the browser — argon2id passwords, sessions in PostgreSQL (only the SHA-256 of the
// id), httpOnly SameSite cookies (Secure behind TLS), CSRF tokens on every form, login throttling per
// username and address, per address and per account (no lockout an attacker can cause), logout and password change — beside the API's bearer tokens, which keep working.
import { createHash } from 'node:crypto';
import { createMaker } from '../helpers/fixtures';
import { api, startApp, type RunningApp } from '../helpers/stack';
import { browserUser, type TestUser } from './browser';

let app: RunningApp;
let officer: TestUser;

beforeAll(async () => {
  app = await startApp({ hsmWorker: false });
  officer = await browserUser(app.db, 'officer', { district_code: '110105' });
});
afterAll(async () => {
  await app?.stop();
});

const cookieOf = (res: Response, name: string) => {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return line ? { value: decodeURIComponent(line.slice(name.length + 1).split(';')[0]), line } : null;
};
const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function loginForm(headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}/login`, { headers });
  const token = cookieOf(res, 'eseal_login_csrf')!.value;
  expect(csrfIn(await res.text())).toBe(token);
  return token;
}

async function login(username: string, password: string, headers: Record<string, string> = {}) {
  const token = await loginForm(headers);
  return fetch(`${app.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `eseal_login_csrf=${token}`, ...headers },
    body: new URLSearchParams({ _csrf: token, username, password }),
  });
}

async function session(user: TestUser) {
  const res = await login(user.username, user.password);
  expect(res.status).toBe(303);
  const sid = cookieOf(res, 'eseal_sid')!;
  const page = await fetch(`${app.url}/account/password`, { headers: { cookie: `eseal_sid=${sid.value}` } });
  return { sid: sid.value, cookieLine: sid.line, csrf: csrfIn(await page.text()) };
}

test('P1: a login opens a session: httpOnly SameSite=Lax cookie, only its SHA-256 stored, argon2id password hash', async () => {
  const s = await session(officer);
  expect(s.cookieLine).toMatch(/; HttpOnly/);
  expect(s.cookieLine).toMatch(/; SameSite=Lax/);
  expect(s.cookieLine).not.toMatch(/; Secure/); // plain HTTP here
  expect(Buffer.from(s.sid, 'base64url')).toHaveLength(32);
  const rows = await app.db('web_sessions').where({ user_id: officer.id }).select('id_sha256', 'csrf_token');
  expect(rows.map((x) => x.id_sha256)).toContain(createHash('sha256').update(s.sid).digest('hex'));
  expect(JSON.stringify(rows)).not.toContain(s.sid);
  expect((await app.db('users').where({ id: officer.id }).first('password_hash')).password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  // The page knows who is logged in; the API accepts the cookie for reading, and bearer tokens still work.
  const queue = await fetch(`${app.url}/tasks`, { headers: { cookie: `eseal_sid=${s.sid}` } });
  expect(queue.status).toBe(200);
  expect(queue.headers.get('content-security-policy')).toContain("default-src 'self'");
  expect((await fetch(`${app.url}/api/tasks`, { headers: { cookie: `eseal_sid=${s.sid}` } })).status).toBe(200);
  expect((await api(app.url, officer.token, 'GET', '/api/tasks')).status).toBe(200);
});

test('P1: behind TLS (a proxy on loopback says https) the cookie is Secure', async () => {
  const res = await login(officer.username, officer.password, { 'x-forwarded-proto': 'https' });
  expect(cookieOf(res, 'eseal_sid')!.line).toMatch(/; Secure/);
});

test('P1: every form needs its CSRF token; the API changes nothing on a cookie alone', async () => {
  const s = await session(officer);
  const post = (path: string, body: Record<string, string>) =>
    fetch(`${app.url}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie: `eseal_sid=${s.sid}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
  const noToken = await post('/logout', {});
  expect(noToken.status).toBe(403);
  expect(await noToken.text()).toContain('表单已过期');
  expect((await post('/logout', { _csrf: 'x'.repeat(43) })).status).toBe(403);
  expect((await post('/tasks/00000000-0000-4000-8000-000000000000/claim', {})).status).toBe(403);
  // The login form has its own double-submit token.
  const forged = await fetch(`${app.url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: officer.username, password: officer.password }) });
  expect(forged.status).toBe(403);
  expect(cookieOf(forged, 'eseal_sid')).toBeNull();
  // A cookie alone cannot change anything through the JSON API.
  const apiPost = await fetch(`${app.url}/api/tasks/00000000-0000-4000-8000-000000000000/decision`, { method: 'POST', headers: { cookie: `eseal_sid=${s.sid}`, 'content-type': 'application/json' }, body: '{"decision":"accept"}' });
  expect(apiPost.status).toBe(401);
  // With the token the session is still valid and logout works.
  const out = await post('/logout', { _csrf: s.csrf });
  expect(out.status).toBe(303);
  expect(cookieOf(out, 'eseal_sid')!.line).toMatch(/Max-Age=0/);
  expect((await fetch(`${app.url}/tasks`, { redirect: 'manual', headers: { cookie: `eseal_sid=${s.sid}` } })).headers.get('location')).toMatch(/^\/login/);
});

test('P1: five failed logins for a username from one address pause that address for 15 minutes, whatever the password afterwards', async () => {
  const victim = await browserUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const from = { 'x-forwarded-for': '203.0.113.11' };
  const bodies: string[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await login(victim.username, `wrong-password-${i}`, from);
    bodies.push(await res.text());
    expect(res.status).toBe(i < 4 ? 401 : 429);
  }
  expect(bodies[0]).toContain('用户名或密码不正确（从此地址再错 4 次将暂停登录 15 分钟）');
  expect(bodies[4]).toMatch(/该用户名从您的地址登录失败次数过多，已锁定至 \d\d:\d\d/);
  const right = await login(victim.username, victim.password, from);
  expect(right.status).toBe(429);
  expect(cookieOf(right, 'eseal_sid')).toBeNull();
  // An unknown username is answered the same way (it says nothing about who exists).
  const unknown = await login('nobody-here', 'whatever-123', from);
  expect(await unknown.text()).toContain('用户名或密码不正确');
  // After the pause (moved into the past here) the right password works again from there too.
  await app.db('login_throttles').where({ scope: 'account_source', key: `${victim.username.toLowerCase()} 203.0.113.11` }).update({ locked_until: new Date(Date.now() - 1000) });
  expect((await login(victim.username, victim.password, from)).status).toBe(303);
});

test('P1 P3: an attacker cannot lock an officer out: guesses from one address pause that address only, and brute force from it stays throttled', async () => {
  const victim = await browserUser(app.db, 'officer', { district_code: '110105' });
  const attacker = { 'x-forwarded-for': '203.0.113.66' };
  const statuses: number[] = [];
  for (let i = 0; i < 15; i++) statuses.push((await login(victim.username, `guess-${i}-password`, attacker)).status);
  // Four answered, then paused: the later guesses are refused before the password is even checked.
  expect(statuses).toEqual([401, 401, 401, 401, ...Array(11).fill(429)]);
  expect((await login(victim.username, victim.password, attacker)).status).toBe(429);
  // The pause doubles when guessing resumes after it (back-off).
  const pair = await app.db('login_throttles').where({ scope: 'account_source', key: `${victim.username.toLowerCase()} 203.0.113.66` }).first();
  expect(pair.lock_level).toBe(1);
  // The officer, at their own desk, logs in at once.
  const own = await login(victim.username, victim.password, { 'x-forwarded-for': '198.51.100.23' });
  expect(own.status).toBe(303);
  expect(cookieOf(own, 'eseal_sid')).not.toBeNull();
});

test('P1 P3: guesses spread over 50 addresses close the account to new addresses only; the officer keeps logging in where they did before', async () => {
  const victim = await browserUser(app.db, 'officer', { district_code: '110105' });
  const desk = { 'x-forwarded-for': '198.51.100.40' };
  expect((await login(victim.username, victim.password, desk)).status).toBe(303);
  const statuses: number[] = [];
  for (let i = 1; i <= 50; i++) statuses.push((await login(victim.username, `spread-guess-${i}`, { 'x-forwarded-for': `203.0.114.${i}` })).status);
  expect(statuses.slice(0, 49).every((s) => s === 401)).toBe(true);
  expect(statuses[49]).toBe(429);
  // A 51st address is refused even with the right password: distributed guessing is throttled too.
  const fresh = await login(victim.username, victim.password, { 'x-forwarded-for': '192.0.2.51' });
  expect(fresh.status).toBe(429);
  expect(await fresh.text()).toContain('新地址暂不能登录');
  expect((await login(victim.username, victim.password, desk)).status).toBe(303);
});

test('P1: one address guessing passwords of many usernames is paused after 20 failures, for every username', async () => {
  const sprayer = { 'x-forwarded-for': '203.0.113.201' };
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) statuses.push((await login(`sprayed-${i}`, 'Common-password-1', sprayer)).status);
  expect(statuses).toEqual([...Array(19).fill(401), 429]);
  const user = await browserUser(app.db, 'supervisor');
  const paused = await login(user.username, user.password, sprayer);
  expect(paused.status).toBe(429);
  expect(await paused.text()).toContain('您的地址登录失败次数过多');
  expect((await login(user.username, user.password, { 'x-forwarded-for': '198.51.100.77' })).status).toBe(303);
});

test('P1: a password change needs the current password, ends every other session and keeps this one on a new id', async () => {
  const user = await browserUser(app.db, 'supervisor');
  const other = await session(user);
  const s = await session(user);
  const change = (body: Record<string, string>) =>
    fetch(`${app.url}/account/password`, { method: 'POST', redirect: 'manual', headers: { cookie: `eseal_sid=${s.sid}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: s.csrf, ...body }) });
  const wrong = await change({ current_password: 'not-it-123', new_password: 'Brand-new-2026', confirm_password: 'Brand-new-2026' });
  expect(wrong.status).toBe(400);
  expect(await wrong.text()).toMatch(/id="f-current_password-msg">当前密码：不正确/);
  const weak = await change({ current_password: user.password, new_password: 'short', confirm_password: 'short' });
  expect(await weak.text()).toMatch(/id="f-new_password-msg">新密码：至少 10 个字符/);
  const ok = await change({ current_password: user.password, new_password: 'Brand-new-2026', confirm_password: 'Brand-new-2026' });
  expect(ok.status).toBe(303);
  const fresh = cookieOf(ok, 'eseal_sid')!.value;
  expect(fresh).not.toBe(s.sid);
  expect((await fetch(`${app.url}/supervision`, { redirect: 'manual', headers: { cookie: `eseal_sid=${fresh}` } })).status).toBe(200);
  for (const old of [s.sid, other.sid]) expect((await fetch(`${app.url}/supervision`, { redirect: 'manual', headers: { cookie: `eseal_sid=${old}` } })).status).toBe(303);
  expect((await login(user.username, 'Brand-new-2026')).status).toBe(303);
});

test('P1: Simplified Chinese by default, English by ?lang=en remembered in a cookie; no stack trace on an error page', async () => {
  const zh = await fetch(`${app.url}/login`);
  expect(await zh.text()).toContain('<html lang="zh-CN">');
  const en = await fetch(`${app.url}/login?lang=en`);
  expect(cookieOf(en, 'eseal_lang')!.value).toBe('en');
  expect(await en.text()).toContain('Log in');
  const again = await fetch(`${app.url}/login`, { headers: { cookie: 'eseal_lang=en' } });
  expect(await again.text()).toContain('<html lang="en">');
  const s = await session(officer);
  const notFound = await fetch(`${app.url}/cases/not-a-case`, { headers: { cookie: `eseal_sid=${s.sid}` } });
  expect(notFound.status).toBe(404);
  const html = await notFound.text();
  expect(html).toContain('案件不存在');
  expect(html).not.toMatch(/\bat [\w.<>]+ \(|\.ts:\d+/);
});
