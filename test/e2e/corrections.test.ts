// M5 in a real browser: a maker's correction of production data reaches the case's district officer queue
// (not another district's); the officer opens the task, compares the version in effect with the correction,
// is refused a return without reason beside the field, returns it with one, and approves the next.
import type { Browser } from 'playwright-core';
import { createMaker } from '../helpers/fixtures';
import { collectedSeal } from '../helpers/journeys';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { browserUser, launch, loginAs, reloadUntil, shot, type TestUser } from './browser';
import { PRODUCTION_DATA } from '../helpers/production-data';

let app: RunningApp;
let browser: Browser;
let maker: { id: string; token: string };
let chaoyang: TestUser;
let haidian: TestUser;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp({ hsmWorker: true, taskQueueSuffix: '-m5e2e' }), launch()]);
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  chaoyang = await browserUser(app.db, 'officer', { district_code: '110105' });
  haidian = await browserUser(app.db, 'officer', { district_code: '110108' });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

it('M5: a correction is a task in its district queue only; the officer compares both versions, returns one with a reason and approves the next on the task page', async () => {
  const seal = await collectedSeal(app, maker, chaoyang, { district: '110105' });
  const path = `/api/applications/${seal.caseId}/production-records`;
  expect((await api(app.url, maker.token, 'POST', path, { production_data: { ...PRODUCTION_DATA, medium: 'USB', operator: '钱七' }, reason: '制作介质录错' })).status).toBe(201);
  const holder = (await app.db('cases as c').join('holders as h', 'h.id', 'c.holder_id').where('c.id', seal.caseId).first('h.name')).name as string;

  // Another district's officer: the queue never shows it.
  const { context: hdCtx, page: hd } = await loginAs(browser, app.url, haidian);
  await hd.goto('/tasks?kind=production_correction');
  expect(await hd.locator('main').innerText()).not.toContain(holder);
  await hdCtx.close();

  const { context, page } = await loginAs(browser, app.url, chaoyang);
  await page.goto('/tasks?kind=production_correction');
  await reloadUntil(page, holder);
  const row = page.locator('tr', { hasText: holder });
  expect(await row.innerText()).toContain('制作信息更正审批');
  await row.getByRole('link', { name: '制作信息更正审批' }).click();
  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
  const compare = page.locator('#correction');
  expect(await compare.locator('h2').innerText()).toContain('v1 → v2');
  expect(await compare.locator('.correction-reason').innerText()).toBe('制作介质录错');
  expect(await compare.locator('.correction-author').innerText()).toBe('test maker');
  expect(await compare.locator('tr.changed').count()).toBe(2); // medium and operator changed in v2
  expect(await compare.locator('tr', { hasText: 'medium' }).innerText()).toMatch(/medium\s+HSM\s+USB/); // v1 recorded HSM, v2 corrects it to USB
  await shot(page, 'm5-correction-task');

  // A return needs a reason: refused beside the field, nothing decided.
  await page.getByRole('button', { name: '退回' }).click();
  await page.waitForLoadState();
  expect(await page.locator('#f-reason-msg').innerText()).toContain('退回必须说明理由');
  expect(await app.db('production_record_decisions as d').join('production_records as r', 'r.id', 'd.record_id').where('r.case_id', seal.caseId).count('* as n').first()).toEqual({ n: '0' });
  await page.locator('#f-reason').fill('介质应为 HSM');
  await page.getByRole('button', { name: '退回' }).click();
  await page.waitForURL(/\/tasks$/);
  expect(await page.locator('.flash.ok').innerText()).toContain('已退回更正，现行版本不变'); // a correction's words, not a case's
  expect((await api(app.url, maker.token, 'GET', path)).body.versions[1]).toMatchObject({ version: 2, state: 'rejected', approval: { decision: 'rejected', reason: '介质应为 HSM' } });

  // The maker corrects again; the officer approves it on the task page, and it becomes current.
  expect((await api(app.url, maker.token, 'POST', path, { production_data: PRODUCTION_DATA, reason: '按民警意见更正介质' })).status).toBe(201);
  await page.goto('/tasks?kind=production_correction');
  await reloadUntil(page, holder);
  await page.locator('tr', { hasText: holder }).getByRole('link', { name: '制作信息更正审批' }).click();
  await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
  expect(await page.locator('#correction h2').innerText()).toContain('v1 → v3'); // v2 was rejected: v1 is still in effect
  await page.getByRole('button', { name: '通过' }).click();
  await page.waitForURL(/\/tasks$/);
  expect(await page.locator('.flash.ok').innerText()).toContain('已批准更正，新版本生效');
  const list = (await api(app.url, maker.token, 'GET', path)).body;
  expect(list.current_version).toBe(3);
  expect(list.versions.map((v: { version: number; state: string }) => [v.version, v.state])).toEqual([[1, 'superseded'], [2, 'rejected'], [3, 'current']]);
  await page.goto(`/cases/${seal.caseId}`);
  const timeline = await page.locator('.timeline').innerText();
  expect(timeline).toContain('制作信息更正已批准');
  expect(timeline).toContain('提交制作信息更正');
  expect(await app.db('case_events').where({ case_id: seal.caseId, type: 'correction_submitted' }).pluck('actor_id')).toEqual([maker.id, maker.id]); // the maker, not "system"
  await context.close();
}, 120_000);
