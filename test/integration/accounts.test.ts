// Issue 16 point 7: administrators create and disable accounts of every role, each bound to its scope, each
// change audited (M6); a new account sets its password through a one-time link of which only the hash is
// stored (P1: no token in clear at rest).
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeUscc, recentRegistrationDate } from '../helpers/fixtures';

let app: RunningApp;
let admin: { id: string; token: string };

beforeAll(async () => {
  app = await startApp();
  admin = await createUser(app.db, 'admin');
});
afterAll(async () => {
  await app?.stop();
});

const unique = () => Math.random().toString(36).slice(2, 8);
const tokenOf = (link: string) => /^\/account-setup\/([A-Za-z0-9_-]{43})$/.exec(link)![1];

const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');

/** The browser's way: open the link (a form with a double-submit CSRF cookie), then post the password. */
async function setPasswordInBrowser(link: string, password: string) {
  const page = await fetch(app.url + link);
  const html = await page.text();
  const cookie = cookiesOf(page);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  return fetch(app.url + link, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ _csrf: csrf, password, confirm_password: password }).toString(),
  });
}

async function browserLogin(username: string, password: string) {
  const form = await fetch(`${app.url}/login`);
  const cookie = cookiesOf(form);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  return fetch(`${app.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ _csrf: csrf, username, password }).toString(),
  });
}

describe('Issue 16 point 7: accounts', () => {
  it('M6 P1: an administrator creates a maker account bound to a licensed maker; the one-time link is shown once, stored only as a hash, sets the password once, and the account logs in', async () => {
    const makerId = await createMaker(app.db);
    const username = `maker-${unique()}`;
    const created = await api(app.url, admin.token, 'POST', '/api/users', { username, display_name: '李制作', role: 'maker', maker_id: makerId });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username, role: 'maker', maker_id: makerId, district_code: null, holder_id: null, has_password: false, disabled_at: null });
    const token = tokenOf(created.body.setup_link);

    // P1: the token is nowhere in the database in clear (its SHA-256 is), nor in an outbox message.
    const stored = JSON.stringify(await app.db('account_setup_links').where({ user_id: created.body.id }));
    expect(stored).not.toContain(token);
    expect(JSON.stringify(await app.db('outbox_messages').select('body'))).not.toContain(token);
    expect(JSON.stringify(await app.db('audit_entries').where({ action: 'account.create' }))).not.toContain(token);

    // A password against the policy does not use the link up; a good one does, once.
    const weak = await api(app.url, null, 'POST', `/api/account-setup/${token}`, { password: 'short1' });
    expect(weak.status).toBe(400);
    expect(weak.body.error.fields[0]).toMatchObject({ field: 'password', message_zh: expect.stringContaining('密码'), message_en: expect.stringContaining('Password') });
    const set = await setPasswordInBrowser(created.body.setup_link, 'Kw7mPq2xLz');
    expect(set.status).toBe(200);
    expect(await set.text()).toContain(username);
    const again = await api(app.url, null, 'POST', `/api/account-setup/${token}`, { password: 'Zt5nRw8vQy' });
    expect(again.status).toBe(410);
    expect(again.body.error).toMatchObject({ code: 'SETUP_LINK_GONE', message_zh: expect.stringContaining('链接'), message_en: expect.stringContaining('link') });

    const login = await browserLogin(username, 'Kw7mPq2xLz');
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/cases');

    // Each change is in the audit trail, by whom and about which account.
    const [entry] = await app.db('audit_entries').where({ action: 'account.create', target_id: created.body.id });
    expect(entry).toMatchObject({ outcome: 'ok', actor_user_id: admin.id, target_type: 'user' });
    expect(await app.db('audit_entries').where({ action: 'account.setup', outcome: 'ok' })).not.toHaveLength(0);
  });

  it('every role is bound to its own scope: officers to a district, holders to a holder; a binding of another role, an unlicensed maker or a taken username is refused in Chinese and English', async () => {
    const officer = await api(app.url, admin.token, 'POST', '/api/users', { username: `officer-${unique()}`, display_name: '王警官', role: 'officer', district_code: '110105' });
    expect(officer.status).toBe(201);
    expect(officer.body.district_code).toBe('110105');
    const supervisor = await api(app.url, admin.token, 'POST', '/api/users', { username: `sup-${unique()}`, display_name: '赵督导', role: 'supervisor' });
    expect(supervisor.status).toBe(201);

    const uscc = makeUscc('110105');
    const holder = await api(app.url, admin.token, 'POST', '/api/registration/holders', { uscc, name: `北京账户${uscc.slice(-5)}有限公司`, kind: 'enterprise', legal_representative: '吴十', address: '北京市朝阳区光华路1号', district: '110105', registration_date: recentRegistrationDate() });
    const holderStaff = await api(app.url, admin.token, 'POST', '/api/users', { username: `holder-${unique()}`, display_name: '孙会计', role: 'holder', holder_id: holder.body.id });
    expect(holderStaff.status).toBe(201);
    expect(holderStaff.body.holder_id).toBe(holder.body.id);

    const noDistrict = await api(app.url, admin.token, 'POST', '/api/users', { username: `officer-${unique()}`, display_name: '王警官', role: 'officer' });
    expect(noDistrict.status).toBe(400);
    expect(noDistrict.body.error.fields).toEqual([expect.objectContaining({ field: 'district_code', message_zh: '所属行政区：必须填写', message_en: 'District: is required' })]);
    const crossed = await api(app.url, admin.token, 'POST', '/api/users', { username: `sup-${unique()}`, display_name: '赵督导', role: 'supervisor', district_code: '110105' });
    expect(crossed.status).toBe(400);
    expect(crossed.body.error.fields[0].field).toBe('district_code');
    const unlicensed = await api(app.url, admin.token, 'POST', '/api/users', { username: `maker-${unique()}`, display_name: '李制作', role: 'maker', maker_id: await createMaker(app.db, { status: 'revoked' }) });
    expect(unlicensed.status).toBe(422);
    expect(unlicensed.body.error.code).toBe('MAKER_LICENCE_INVALID');
    const taken = await api(app.url, admin.token, 'POST', '/api/users', { username: officer.body.username, display_name: '重名', role: 'supervisor' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('USERNAME_TAKEN');
    const wrongType = await api(app.url, admin.token, 'POST', '/api/users', { username: `x-${unique()}`, display_name: '某人', role: 'wizard' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.fields[0]).toMatchObject({ field: 'role', message_zh: expect.stringContaining('角色'), message_en: expect.stringContaining('Role') });

    // Only administrators manage accounts.
    const notAdmin = await createUser(app.db, 'supervisor');
    expect((await api(app.url, notAdmin.token, 'POST', '/api/users', { username: `x-${unique()}`, display_name: '某人', role: 'supervisor' })).status).toBe(403);
    expect((await api(app.url, notAdmin.token, 'GET', '/api/users')).status).toBe(403);
    const list = await api(app.url, admin.token, 'GET', '/api/users');
    expect(list.body.map((u: { id: string }) => u.id)).toEqual(expect.arrayContaining([officer.body.id, holderStaff.body.id]));
  });

  it('M6: a disabled account is let in by neither its API token nor its session nor its password nor its unused link; the disabling is audited; an admin cannot disable themself', async () => {
    const target = await createUser(app.db, 'officer', { district_code: '110105' });
    expect((await api(app.url, target.token, 'GET', '/api/tasks')).status).toBe(200);
    const pending = await api(app.url, admin.token, 'POST', '/api/users', { username: `officer-${unique()}`, display_name: '未启用', role: 'officer', district_code: '110101' });

    const disabled = await api(app.url, admin.token, 'POST', `/api/users/${target.id}/disable`);
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabled_at).toBeTruthy();
    expect((await api(app.url, target.token, 'GET', '/api/tasks')).status).toBe(401);
    const [entry] = await app.db('audit_entries').where({ action: 'account.disable', target_id: target.id });
    expect(entry).toMatchObject({ outcome: 'ok', actor_user_id: admin.id });

    expect((await api(app.url, admin.token, 'POST', `/api/users/${pending.body.id}/disable`)).status).toBe(200);
    expect((await api(app.url, null, 'POST', `/api/account-setup/${tokenOf(pending.body.setup_link)}`, { password: 'Kw7mPq2xLz' })).status).toBe(410);

    const self = await api(app.url, admin.token, 'POST', `/api/users/${admin.id}/disable`);
    expect(self.status).toBe(409);
    expect(self.body.error.code).toBe('CANNOT_DISABLE_SELF');
  });
});
