// The back office's oversight pages in a real browser (Debian chromium through playwright-core) against
// the real app: the officers' queue with due times (a real filing's review task is due 24 hours after the
// filing), countdowns, overdue tasks marked, filters, claim and self-refresh; a maker's premises video
// upload (M8) and a supervisor's legal hold; the supervisors' compliance charts with drill-down and CSV,
// and the audit search with its CSV export (I1, M6).
import { randomUUID } from 'node:crypto';
import { createHash, randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { createMaker, makeResidentId, makeUscc, PNG_BYTES, upload, recentRegistrationDate } from '../helpers/fixtures';
import { waitForCase } from '../helpers/journeys';
import { eventually } from '../helpers/wait';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { browserUser, launch, loginAs, shot, type TestUser } from './browser';
import { PRODUCTION_DATA } from '../helpers/production-data';

let app: RunningApp;
let browser: Browser;
let makerId: string;
let maker: TestUser;
let officer: TestUser;
let supervisor: TestUser;
const HOUR = 3600_000;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launch()]);
  makerId = await createMaker(app.db);
  maker = await browserUser(app.db, 'maker', { maker_id: makerId });
  officer = await browserUser(app.db, 'officer', { district_code: '110106' }); // 丰台区: only this file's cases
  supervisor = await browserUser(app.db, 'supervisor');
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

/** A holder and a case of this file's maker in 丰台区, seeded as the workflows would have left them. */
async function seedCase(name: string, status = 'filing_under_review', caseMaker = makerId) {
  const holderId = randomUUID();
  const caseId = randomUUID();
  await app.db('holders').insert({ id: holderId, uscc: makeUscc('110106'), name, kind: 'enterprise', district_code: '110106', address: '北京市丰台区丰台路1号' });
  await app.db('cases').insert({ id: caseId, maker_id: caseMaker, holder_id: holderId, district_code: '110106', status, language: 'zh', handler_name: '冯十二', handler_id_number: makeResidentId(), handler_phone: '13600136000', created_by: maker.id });
  await app.db('seals').insert({ id: randomUUID(), case_id: caseId, holder_id: holderId, kind: 'legal_name', text: name, status: 'in_production' });
  return caseId;
}

/**
 * Through the API: a registered holder's application, produced and filed; the filing opens a review task.
 * The case is watched with the supervisor's token, so that the maker's own audit entries are few.
 */
async function filedCase() {
  const admin = await createUser(app.db, 'admin');
  const uscc = makeUscc('110106');
  const name = `北京队列测试${uscc.slice(-4)}有限公司`;
  await api(app.url, admin.token, 'POST', '/api/registration/holders', { uscc, name, kind: 'enterprise', legal_representative: '陈十三', address: '北京市丰台区南三环西路1号', district: '110106', registration_date: recentRegistrationDate() });
  const created = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc, name, kind: 'enterprise', address: '北京市丰台区南三环西路1号', district: '110106' },
    seal: { kind: 'business_finance', language: 'zh' },
    handler: { name: '卫十四', id_number: makeResidentId(), phone: '13500135000' },
  });
  expect(created.status).toBe(201);
  const caseId = created.body.id as string;
  await waitForCase(app, supervisor.token, caseId, 'awaiting_production');
  const image = await upload(app.url, maker.token, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
  await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/production`, { production_data: PRODUCTION_DATA, on_site_image_id: image.body.id });
  await waitForCase(app, supervisor.token, caseId, 'awaiting_filing');
  const filedAt = Date.now();
  const filed = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/filing`, {});
  expect(filed.status).toBeLessThan(300);
  return { caseId, name, taskId: filed.body.task_id as string, filedAt };
}

test('M3 P3: the officers\' queue shows each task\'s due time and countdown (a filing review is due 24 hours after the filing), overdue ones marked and first, filters, claim, and refreshes itself', async () => {
  const real = await filedCase();
  const task = await app.db('tasks').where({ id: real.taskId }).first('due_at', 'kind');
  expect(task.kind).toBe('filing_review');
  // M3: the review is due within the same 24 hours as the filing itself.
  expect(Math.abs(new Date(task.due_at).getTime() - (real.filedAt + 24 * HOUR))).toBeLessThan(60_000);

  // An overdue task (its due time passed 2 hours ago), seeded as the workflow leaves one.
  const lateCase = await seedCase('北京逾期审核测试有限公司');
  await app.db('tasks').insert({ id: randomUUID(), case_id: lateCase, kind: 'filing_review', district_code: '110106', status: 'open', due_at: new Date(Date.now() - 2 * HOUR), created_at: new Date(Date.now() - 26 * HOUR) });

  const { context, page } = await loginAs(browser, app.url, officer);
  expect(page.url()).toMatch(/\/tasks$/);
  const rows = page.locator('table.queue tbody tr');
  // Due order: the overdue one first, marked, with how late it is.
  expect(await rows.nth(0).innerText()).toContain('北京逾期审核测试有限公司');
  expect(await rows.nth(0).getAttribute('class')).toContain('row-overdue');
  expect(await rows.nth(0).locator('.cd').innerText()).toMatch(/^已逾期 2 小时/);
  expect(await page.locator('.subbar .chip.bad').innerText()).toContain('1');
  const realRow = page.locator('tr', { hasText: real.name });
  expect(await realRow.locator('.cd').innerText()).toMatch(/^剩余 2[34] 小时/);
  expect(await realRow.locator('.cd').getAttribute('data-due')).toBe(new Date(task.due_at).toISOString());
  // Claim: who holds it is shown.
  await realRow.getByRole('button', { name: '认领' }).click();
  await page.waitForURL(/\/tasks/);
  expect(await page.locator('tr', { hasText: real.name }).locator('.holder-of').innerText()).toBe('test officer');
  await shot(page, '20-officer-queue-countdowns');

  // Filters: by kind and by state.
  await page.locator('nav.tabs a', { hasText: '设立文件审批' }).click();
  expect(await page.locator('main').innerText()).not.toContain(real.name);
  await page.locator('nav.tabs a', { hasText: '备案审核' }).click();
  expect(await page.locator('main').innerText()).toContain(real.name);
  await page.locator('.seg a', { hasText: '已办' }).click();
  expect(await page.locator('main').innerText()).not.toContain(real.name);
  await page.goto('/tasks');

  // A task arriving while the queue is open appears without a reload: the page polls a small JSON
  // fingerprint of the open tasks and fetches the table again when it changes.
  const before = await (await page.request.get('/tasks/state')).json();
  expect(before.open).toBe(2);
  const arriving = await seedCase('北京新到任务测试有限公司');
  await app.db('tasks').insert({ id: randomUUID(), case_id: arriving, kind: 'filing_review', district_code: '110106', status: 'open', due_at: new Date(Date.now() + 20 * HOUR) });
  const after = await (await page.request.get('/tasks/state')).json();
  expect(after).toMatchObject({ open: 3 });
  expect(after.version).not.toBe(before.version);
  await page.locator('tr', { hasText: '北京新到任务测试有限公司' }).waitFor({ timeout: 25_000 });
  expect(page.url()).toMatch(/\/tasks$/);
  await context.close();
});

/** A small MP4 (ftyp box, then bytes) and its hash. */
const videoBytes = () => Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom', 'latin1'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2', 'latin1'), randomBytes(4096)]);
/** 'YYYY-MM-DDTHH:mm' in Beijing time, `hoursAgo` before now (a datetime-local value). */
const beijingLocal = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR + 8 * HOUR).toISOString().slice(0, 16);

test('M8: a maker uploads a premises video segment in the browser (a bad time is refused beside its field, nothing stored), sees it kept 90 days; a supervisor places and lifts a legal hold with reasons', async () => {
  const camera = `gate-${randomUUID().slice(0, 6)}`;
  const bytes = videoBytes();
  const { context, page } = await loginAs(browser, app.url, maker);
  await page.locator('nav a', { hasText: '场所监控录像' }).click();
  await page.waitForURL(/\/video$/);
  await page.locator('#f-camera_id').fill(camera);
  await page.locator('#f-recorded_start').fill(beijingLocal(2));
  await page.locator('#f-recorded_end').fill(beijingLocal(3)); // before the start
  await page.locator('#f-file').setInputFiles({ name: 'gate.mp4', mimeType: 'video/mp4', buffer: bytes });
  await page.getByRole('button', { name: '上传', exact: true }).click();
  await page.waitForLoadState();
  expect(await page.locator('#f-recorded_end-msg').innerText()).toContain('应晚于录像开始时间');
  expect(await page.locator('#f-camera_id').inputValue()).toBe(camera); // nothing typed is lost
  expect(await app.db('video_segments').where({ maker_id: makerId, camera_id: camera }).count('* as n').first()).toMatchObject({ n: '0' });
  await shot(page, '21-video-upload-error');

  await page.locator('#f-recorded_end').fill(beijingLocal(1));
  await page.locator('#f-file').setInputFiles({ name: 'gate.mp4', mimeType: 'video/mp4', buffer: bytes });
  await page.getByRole('button', { name: '上传', exact: true }).click();
  await page.waitForURL(/\/video\/[0-9a-f-]{36}$/);
  const segmentId = page.url().split('/').pop()!;
  expect(await page.locator('.flash.ok').innerText()).toContain('保存期 90 天');
  const stored = await app.db('video_segments').where({ id: segmentId }).first('sha256', 'recorded_start');
  expect(stored.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  expect(Math.abs(new Date(stored.recorded_start).getTime() - (Date.now() - 2 * HOUR))).toBeLessThan(3 * 60_000); // Beijing time understood
  // The retention workflow fixes the date 90 days on; the page shows it with its countdown.
  await eventually('retain_until', async () => (await app.db('video_segments').where({ id: segmentId }).first('retain_until')).retain_until, (v) => v !== null);
  await page.reload();
  expect(await page.locator('#segment-facts').innerText()).toMatch(/剩余 (89|90) 天/);
  expect(await page.locator('.head-tools .chip').innerText()).toBe('保存期内');
  await page.goto('/video');
  expect(await page.locator('#segments-table tr', { hasText: camera }).innerText()).toContain('保存期内');
  await shot(page, '22-video-segments');
  await context.close();

  const { context: sc, page: sp } = await loginAs(browser, app.url, supervisor);
  await sp.goto(`/video/${segmentId}`);
  await sp.getByRole('button', { name: '设置保全' }).click(); // no reason
  await sp.waitForLoadState();
  expect(await sp.locator('#f-reason-msg').innerText()).toMatch(/法律保全理由/);
  expect(await app.db('video_legal_holds').where({ segment_id: segmentId }).count('* as n').first()).toMatchObject({ n: '0' });
  await sp.locator('#f-reason').fill('朝阳分局刑侦调查调取');
  await sp.getByRole('button', { name: '设置保全' }).click();
  await sp.waitForURL(new RegExp(`/video/${segmentId}$`));
  expect(await sp.locator('.flash.ok').innerText()).toContain('已设置法律保全');
  expect(await sp.locator('.head-tools .chip').innerText()).toBe('法律保全中');
  expect(await sp.locator('#holds').innerText()).toContain('朝阳分局刑侦调查调取');
  await shot(sp, '23a-video-segment-held');
  await sp.goto('/video');
  expect(await sp.locator('#holds-table').innerText()).toContain('朝阳分局刑侦调查调取');
  expect(await (await sp.request.get('/video/holds.csv')).text()).toContain('朝阳分局刑侦调查调取');
  expect(await (await sp.request.get('/video.csv')).text()).toContain(camera);
  await sp.locator('#holds-table a', { hasText: camera }).click();
  await sp.getByRole('button', { name: '解除', exact: true }).click(); // no reason
  await sp.waitForLoadState();
  expect(await sp.locator('#holds .err').first().innerText()).toMatch(/解除理由/);
  await sp.locator('#holds input[name=reason]').fill('调查结束');
  await sp.getByRole('button', { name: '解除', exact: true }).click();
  await sp.waitForURL(new RegExp(`/video/${segmentId}$`));
  expect(await sp.locator('.flash.ok').innerText()).toContain('已解除法律保全');
  expect(await sp.locator('#holds').innerText()).toContain('调查结束');
  expect(await sp.locator('.head-tools .chip').innerText()).toBe('保存期内'); // still within its 90 days
  // M8: every attempt is in the segment's access log, the refused ones too.
  const log = await sp.locator('#access-log').innerText();
  expect(log).toMatch(/设置法律保全\s+允许\s+朝阳分局刑侦调查调取/);
  expect(log).toMatch(/解除法律保全\s+拒绝/);
  expect(log).toMatch(/上传\s+允许/);
  await shot(sp, '23-video-segment-holds');
  await sc.close();

  // P3: an officer of another district (丰台区; the maker is in 朝阳区) neither sees nor opens the segment.
  const { context: oc, page: op } = await loginAs(browser, app.url, officer);
  await op.goto('/video');
  expect(await op.locator('main').innerText()).not.toContain(camera);
  expect((await op.goto(`/video/${segmentId}`))!.status()).toBe(403);
  await oc.close();
});

test('I1 M3: supervisors see each maker\'s filing delays and overdue count as charts with a table, drill down from a bar to its cases, and download the CSV', async () => {
  // A maker of its own, so that the other tests' filings do not count here.
  const ownMaker = await createMaker(app.db);
  const name = (await app.db('makers').where({ id: ownMaker }).first('name')).name as string;
  const now = Date.now();
  // Filing deadlines of this file's maker: filed after 3 h, 10 h, 20 h, 30 h (late), 4 days (late); one still unfiled, 26 h overdue.
  const delays = [3, 10, 20, 30, 96];
  for (const [i, h] of delays.entries()) {
    const caseId = await seedCase(`北京合规统计${i}有限公司`, 'ready', ownMaker);
    const started = new Date(now - (10 + i) * 24 * HOUR);
    const due = new Date(started.getTime() + 24 * HOUR);
    await app.db('filing_deadlines').insert({ case_id: caseId, kind: 'production', district_code: '110106', maker_id: ownMaker, started_at: started, due_at: due, overdue_at: h > 24 ? due : null, first_filed_at: new Date(started.getTime() + h * HOUR) });
  }
  const unfiledName = '北京逾期未备案统计有限公司';
  const unfiled = await seedCase(unfiledName, 'awaiting_filing', ownMaker);
  await app.db('filing_deadlines').insert({ case_id: unfiled, kind: 'production', district_code: '110106', maker_id: ownMaker, started_at: new Date(now - 50 * HOUR), due_at: new Date(now - 26 * HOUR), overdue_at: new Date(now - 26 * HOUR) });

  const { context, page } = await loginAs(browser, app.url, supervisor);
  await page.locator('nav a', { hasText: '制作单位合规' }).click();
  await page.waitForURL(/\/supervision\/compliance$/);
  // The city-wide charts: seven delay buckets, twelve week ends; server-rendered SVG.
  expect(await page.locator('svg#city-dist rect').count()).toBe(7);
  expect(await page.locator('svg#city-series rect').count()).toBe(12);
  expect(await page.locator('svg#city-dist title').first().textContent()).toContain('备案用时分布');
  // The maker's row: its numbers, its two charts, and the table of the same numbers.
  const row = page.locator('#maker-compliance tr', { hasText: name });
  const cells = row.locator('td.num');
  expect(await cells.nth(0).innerText()).toBe('6'); // filings in the window
  expect(await cells.nth(1).innerText()).toBe('3'); // late: 30 h, 4 d and the unfiled one
  expect(await cells.nth(3).innerText()).toBe('1'); // overdue now
  expect(await row.locator('svg rect').count()).toBe(7 + 12);
  expect(await row.locator('.bucket-nums a').allInnerTexts()).toEqual(['1', '1', '1', '1', '1', '0', '1']);
  await shot(page, '24-supervisor-compliance');
  // The city table fallback (no chart needed to read the numbers).
  await page.locator('details', { has: page.locator('#city-dist-table') }).locator('summary').click();
  expect(await page.locator('#city-dist-table').innerText()).toContain('逾期仍未备案');

  // Drill-down: the maker's "overdue, not filed" bar → its cases.
  await row.locator('svg a').nth(6).click();
  await page.waitForURL(/\/supervision\/compliance\/filings\?maker=.*bucket=unfiled/);
  expect(await page.locator('#filings-table').innerText()).toContain(unfiledName);
  expect(await page.locator('#filings-table tbody tr').count()).toBe(1);
  await shot(page, '25-compliance-drilldown');
  const [opened] = await Promise.all([page.waitForNavigation(), page.locator('#filings-table a').first().click()]);
  expect(opened!.status()).toBe(200);
  expect(page.url()).toMatch(new RegExp(`/cases/${unfiled}$`));
  expect(await page.locator('main').innerText()).toContain(unfiledName);

  // The maker's total drills down to its six filings.
  await page.goto('/supervision/compliance');
  await page.locator('#maker-compliance tr', { hasText: name }).locator('td.num a').first().click();
  await page.waitForURL(/bucket=all/);
  expect(await page.locator('#filings-table tbody tr').count()).toBe(6);

  // Every table as CSV.
  expect(await (await page.request.get('/supervision/compliance/city.csv')).text()).toContain('逾期仍未备案');
  const csv = await page.request.get('/supervision/compliance/makers.csv');
  expect(csv.headers()['content-type']).toMatch(/^text\/csv/);
  expect(await csv.text()).toContain(name);
  const filingsCsv = await page.request.get(`/supervision/compliance/filings.csv?maker=${ownMaker}&bucket=d7`);
  expect(await filingsCsv.text()).toContain('北京合规统计4有限公司');
  // A bad window is a clear 400 naming the field, in Chinese and English.
  const bad = await page.goto('/supervision/compliance?weeks=7');
  expect(bad!.status()).toBe(400);
  expect(await page.locator('#f-weeks-msg').innerText()).toContain('统计周数');
  await page.goto('/supervision/compliance?weeks=7&lang=en');
  expect(await page.locator('#f-weeks-msg').innerText()).toContain('Weeks');
  await page.goto('/supervision/compliance?lang=en');
  expect(await page.locator('h1').innerText()).toBe('Maker compliance');
  await shot(page, '26-supervisor-compliance-en');
  await page.goto('/supervision/compliance?lang=zh');
  await context.close();
});

test('M6 I1: a supervisor searches the audit trail by person, case and time in the browser, follows a case, pages, and exports the same search as CSV', async () => {
  const real = await filedCase(); // case.submit, case.production, case.filing by the maker
  const { context, page } = await loginAs(browser, app.url, supervisor);
  await page.locator('nav a', { hasText: '审计日志' }).click();
  await page.waitForURL(/\/supervision\/audit$/);
  await page.locator('#f-user').fill(maker.username);
  await page.locator('#f-case').fill(real.caseId);
  await page.getByRole('button', { name: '查询' }).click();
  await page.waitForURL(/\/supervision\/audit\?/);
  const table = page.locator('#audit-table');
  expect(await table.innerText()).toContain('case.submit');
  expect(await table.innerText()).toContain('case.filing');
  const actions = await table.locator('tbody tr td:nth-child(4)').allInnerTexts();
  expect(new Set(actions).size).toBeGreaterThanOrEqual(3);
  expect(await table.locator('tbody tr td:nth-child(3) a').allInnerTexts()).toEqual(actions.map(() => maker.username)); // only this person
  await shot(page, '27-audit-search');

  // A bad time is refused beside its field, in Chinese; the search typed is kept.
  await page.locator('#f-from').fill('昨天');
  await page.getByRole('button', { name: '查询' }).click();
  await page.waitForLoadState();
  expect(await page.locator('#f-from-msg').innerText()).toMatch(/起始时间/);
  expect(await page.locator('#f-user').inputValue()).toBe(maker.username);
  await shot(page, '28-audit-search-error');
  expect((await page.goto(`/supervision/audit?from=${encodeURIComponent('昨天')}&lang=en`))!.status()).toBe(400);
  expect(await page.locator('#f-from-msg').innerText()).toMatch(/^From: must be a date/);
  await page.goto('/supervision/audit?lang=zh');

  // Time range: today in Beijing; then the CSV of the same search.
  const today = new Date(Date.now() + 8 * HOUR).toISOString().slice(0, 10);
  await page.goto(`/supervision/audit?user=${maker.username}&case=${real.caseId}&from=${today}&to=${today}`);
  expect(await page.locator('#audit-table tbody tr').count()).toBe(actions.length);
  const href = await page.locator('a', { hasText: '导出 CSV' }).getAttribute('href');
  expect(href).toContain(`case=${real.caseId}`);
  const csv = await page.request.get(href!);
  expect(csv.headers()['content-type']).toMatch(/^text\/csv/);
  const lines = (await csv.text()).trim().split(/\r\n/);
  expect(lines[0]).toContain('seq');
  expect(lines.length - 1).toBe(actions.length);
  // Drill-down: the case of an entry opens the case page.
  await page.locator('#audit-table tbody tr').first().locator('a.mono').click();
  await page.waitForURL(new RegExp(`/cases/${real.caseId}$`));
  // The supervisor's own searches are entries too.
  await page.goto(`/supervision/audit?user=${supervisor.username}&action=audit.*`);
  expect(await page.locator('#audit-table').innerText()).toContain('audit.search');
  await context.close();
});
