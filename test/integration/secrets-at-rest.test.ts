// Secrets at rest (issue 10, "Secrets at rest" and point 7): no bearer secret issued in this test — API
// tokens, a browser session id, the login password, the one-time password-reset links — is stored in clear:
// not in a `pg_dump` of the whole database (PostgreSQL's own tool), not in any workflow history of the
// namespace. C3: the reset link is shown once to the approving officer (page and API), who hands it to the
// keeper; the holder's notice carries no link.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId } from '../helpers/fixtures';
import { collectedSeal, waitForCase } from '../helpers/journeys';
import { setLoginPassword } from '../../usecases/web-accounts';

let app: RunningApp;

beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app?.stop();
});

async function pgDump(): Promise<string> {
  const url = process.env.DATABASE_OWNER_URL || app.config.runtime.databaseUrl!;
  const { stdout } = await promisify(execFile)('pg_dump', ['--no-owner', '--dbname', url], { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  return stdout;
}

/** Every workflow history of the namespace (this test's and any other's), payloads decoded as text. */
async function allHistories(): Promise<string> {
  const parts: string[] = [];
  const walk = (v: unknown) => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    else if (typeof v === 'string') parts.push(v);
  };
  let n = 0;
  for await (const wf of app.temporalClient.workflow.list()) {
    walk(await app.temporalClient.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory());
    n++;
  }
  expect(n).toBeGreaterThan(3);
  return parts.join('\n');
}

const cookieOf = (res: Response, name: string) => {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return line ? decodeURIComponent(line.slice(name.length + 1).split(';')[0]) : null;
};
const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** The officer's browser session through the login form: the session id is a bearer secret too. */
async function browserSession(username: string, password: string): Promise<string> {
  const form = await fetch(`${app.url}/login`);
  const loginCsrf = cookieOf(form, 'eseal_login_csrf')!;
  const res = await fetch(`${app.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `eseal_login_csrf=${loginCsrf}` },
    body: new URLSearchParams({ _csrf: loginCsrf, username, password }),
  });
  expect(res.status).toBe(303);
  return cookieOf(res, 'eseal_sid')!;
}

/** Holder staff apply for a reset of the keeper's protection password; the officer's task appears. */
async function resetTask(staff: { token: string }, sealId: string, keeperId: string, officer: { token: string }) {
  const requested = await api(app.url, staff.token, 'POST', `/api/seals/${sealId}/password/reset-requests`, { id_number: keeperId, phone: '13500135000', reason: '保管人遗忘口令' });
  expect(requested.status).toBe(201);
  for (let i = 0; i < 300; i++) {
    const tasks = await api(app.url, officer.token, 'GET', '/api/tasks?kind=password_reset_approval');
    const t = tasks.body.find((x: { case_id: string }) => x.case_id === requested.body.case_id);
    if (t) return { caseId: requested.body.case_id as string, taskId: t.id as string };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no reset task');
}

test('C3 P1: reset links, session ids, API tokens and login passwords issued here are in no pg_dump and no workflow history; the officer is shown no reset link', async () => {
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const officer = await createUser(app.db, 'officer', { district_code: '110105' });
  const officerPassword = `Pw-${officer.id.slice(0, 8)}-2019x`;
  await setLoginPassword(app.db, officer.id, officerPassword);
  const officerName = (await app.db('users').where({ id: officer.id }).first('username')).username as string;
  const sid = await browserSession(officerName, officerPassword);

  const s = await collectedSeal(app, maker, officer);
  const staff = await createUser(app.db, 'holder', { holder_id: s.holderId });
  const keeperId = makeResidentId('19800101');
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${s.sealId}/keepers`, { name: '陈保管', id_number: keeperId })).status).toBe(201);
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${s.sealId}/password`, { id_number: keeperId, password: 'Tiger#Lake2049x' })).status).toBe(201);

  // 1. Approved on the officer's page: the officer is shown no link; the holder's inbox mints one when opened.
  const mint = async (caseId: string) => {
    const res = await fetch(`${app.url}/password-reset/cases/${caseId}`, { redirect: 'manual', headers: { authorization: `Bearer ${staff.token}` } });
    expect(res.status).toBe(303);
    return /\/password-reset\/([A-Za-z0-9_-]{43})$/.exec(res.headers.get('location')!)![1];
  };
  const first = await resetTask(staff, s.sealId, keeperId, officer);
  const page = await fetch(`${app.url}/tasks/${first.taskId}`, { headers: { cookie: `eseal_sid=${sid}` } });
  expect(page.status).toBe(200);
  const approved = await fetch(`${app.url}/tasks/${first.taskId}/decision`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `eseal_sid=${sid}` },
    body: new URLSearchParams({ _csrf: csrfIn(await page.text()), decision: 'accept', reason: '' }),
  });
  expect(approved.status).toBe(303);
  await waitForCase(app, staff.token, first.caseId, 'completed');
  const pageToken = await mint(first.caseId);
  expect((await fetch(`${app.url}/password-reset/${pageToken}`)).status).toBe(200);
  const again = await (await fetch(`${app.url}/tasks/${first.taskId}`, { headers: { cookie: `eseal_sid=${sid}` } })).text();
  expect(again).not.toMatch(/password-reset\/[A-Za-z0-9_-]{43}/);

  // 2. Approved through the API: no link in the answer; the second approval closes the first reset's links.
  const second = await resetTask(staff, s.sealId, keeperId, officer);
  const decided = await api(app.url, officer.token, 'POST', `/api/tasks/${second.taskId}/decision`, { decision: 'accept' });
  expect(decided.status).toBe(200);
  expect(decided.body.case_status).toBe('completed');
  expect(decided.body.reset_link).toBeUndefined();
  expect((await fetch(`${app.url}/password-reset/${pageToken}`)).status).toBe(410);
  const apiToken = await mint(second.caseId);
  expect((await app.db('password_reset_links').where({ case_id: second.caseId })).length).toBe(1);
  // The holder's notices point to the inbox's way to a link, never to a token.
  const notices = await app.db('outbox_messages').where({ seal_id: s.sealId, kind: 'password_reset_link' }).pluck('body');
  expect(notices).toHaveLength(2);
  for (const body of notices) expect(body).not.toMatch(/password-reset\/[A-Za-z0-9_-]{20,}/);

  // 3. None of them in clear, anywhere at rest.
  const secrets: Record<string, string> = {
    'maker API token': maker.token,
    'officer API token': officer.token,
    'holder staff API token': staff.token,
    'browser session id': sid,
    'officer login password': officerPassword,
    'reset link (first reset)': pageToken,
    'reset link (second reset)': apiToken,
  };
  const dump = await pgDump();
  expect(dump).toContain(s.sealId); // the dump is the real thing
  const histories = await allHistories();
  expect(histories).toContain(first.caseId);
  for (const [what, secret] of Object.entries(secrets)) {
    expect({ what, inDump: dump.includes(secret), inHistories: histories.includes(secret) }).toEqual({ what, inDump: false, inHistories: false });
  }
}, 180_000);
