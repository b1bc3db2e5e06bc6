// The back office in a real browser (Debian chromium through playwright-core) against the real app:
// a maker's application with uploads → filing accepted by the right district's officer (another district
// sees nothing) → collection → the holder downloads the production certificate; an overdue filing on the
// supervisors' dashboard; a suspended seal as its holder sees it; anyone verifying a sealed PDF on the public page.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { contractPdf, createMaker, makeResidentId, makeUscc, PDF_BYTES, PNG_BYTES } from '../helpers/fixtures';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { collectedSeal } from '../helpers/journeys';
import { browserUser, launch, loginAs, reloadUntil, shot, type TestUser } from './browser';

let app: RunningApp;
let browser: Browser;
let makerId: string;
let maker: TestUser;
let haidian: TestUser;
let chaoyang: TestUser;
let supervisor: TestUser;

const pdf = (name: string) => ({ name, mimeType: 'application/pdf', buffer: PDF_BYTES });
const png = (name: string) => ({ name, mimeType: 'image/png', buffer: PNG_BYTES });

/** Shared by the journeys: the collected seal of the first one. */
const journey: { caseId?: string; sealId?: string; holderId?: string; handlerId?: string } = {};

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launch()]);
  makerId = await createMaker(app.db);
  maker = await browserUser(app.db, 'maker', { maker_id: makerId });
  haidian = await browserUser(app.db, 'officer', { district_code: '110108' });
  chaoyang = await browserUser(app.db, 'officer', { district_code: '110105' });
  supervisor = await browserUser(app.db, 'supervisor');
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function caseStatus(caseId: string): Promise<string> {
  return (await app.db('cases').where({ id: caseId }).first('status')).status;
}

async function waitForStatus(caseId: string, status: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while ((await caseStatus(caseId)) !== status) {
    if (Date.now() > deadline) throw new Error(`case ${caseId} is ${await caseStatus(caseId)}, expected ${status}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function fillApplication(page: Page, uscc: string, handlerId: string) {
  await page.locator('#f-holder-uscc').fill(uscc);
  await page.locator('#f-holder-name').fill('北京浏览器测试科技有限公司');
  await page.locator('#f-holder-kind').selectOption('enterprise');
  await page.locator('#f-holder-district').selectOption('110108');
  await page.locator('#f-holder-address').fill('北京市海淀区中关村南大街5号');
  await page.locator('#f-holder-legal_representative').fill('孙八');
  await page.locator('#f-seal-kind').selectOption('business_contract');
  await page.locator('#f-handler-name').fill('周九');
  await page.locator('#f-handler-id_number').fill(handlerId);
  await page.locator('#f-handler-phone').fill('13900139000');
  await page.locator('#f-material-establishment_document').setInputFiles(pdf('营业执照.pdf'));
  await page.locator('#f-material-legal_rep_authorisation_letter').setInputFiles(pdf('授权书.pdf'));
  await page.locator('#f-material-handler_id_copy').setInputFiles(png('身份证.png'));
}

test('P1 P3 M2 M3 M10 A2: a maker applies with uploads, the right district accepts the filing (another district cannot see it), the maker records collection, the holder downloads the certificate', async () => {
  const { context: makerCtx, page } = await loginAs(browser, app.url, maker);
  await shot(page, '01-maker-desk');

  // A2: the form with every field and the uploads; a wrong check character is shown beside its field.
  await page.goto('/cases/new');
  const uscc = makeUscc('110108');
  const handlerId = makeResidentId();
  const wrongCheck = uscc.slice(0, 17) + (uscc[17] === '0' ? '1' : '0');
  await fillApplication(page, wrongCheck, handlerId);
  await shot(page, '02-new-application');
  await page.getByRole('button', { name: '提交申请' }).click();
  await page.waitForLoadState();
  expect(await page.locator('#f-holder-uscc-msg').innerText()).toMatch(/统一社会信用代码/);
  expect(await page.locator('#f-holder-uscc').getAttribute('aria-invalid')).toBe('true');
  expect(await page.locator('#f-holder-name').inputValue()).toBe('北京浏览器测试科技有限公司'); // nothing typed is lost
  expect(await page.content()).not.toMatch(/at .*\.ts:\d+|Error:|TypeError/); // no stack trace on a page
  await shot(page, '03-new-application-error');
  await fillApplication(page, uscc, handlerId);
  await page.getByRole('button', { name: '提交申请' }).click();
  await page.waitForURL(/\/cases\/[0-9a-f-]{36}$/);
  const caseId = page.url().split('/').pop()!;
  journey.caseId = caseId;
  journey.handlerId = handlerId;
  await waitForStatus(caseId, 'awaiting_production');
  expect(await app.db('materials').where({ case_id: caseId }).count('* as n').first()).toMatchObject({ n: '3' });

  // M2: the production step with the handler's on-site image.
  await reloadUntil(page, '确认制作');
  await page.locator('#f-on_site_image').setInputFiles(png('现场.png'));
  await page.locator('#f-produced_on').fill(new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10));
  await page.locator('#f-operator').fill('钱七');
  await page.locator('#f-medium').selectOption('HSM');
  await page.locator('#f-device').fill('SoftHSM2 令牌');
  await page.getByLabel('已核对制作信息，确认制作').check();
  await page.getByRole('button', { name: '确认制作' }).click();
  await page.waitForURL(new RegExp(`/cases/${caseId}$`));
  await waitForStatus(caseId, 'awaiting_filing');
  await reloadUntil(page, '提交备案');
  expect(await page.locator('.step .cd').first().innerText()).toMatch(/剩余 2[34] 小时/); // M3: the 24-hour countdown
  await shot(page, '04-case-awaiting-filing');
  await page.getByRole('button', { name: '提交备案' }).click();
  await page.waitForURL(new RegExp(`/cases/${caseId}$`));
  expect(await page.locator('.flash.ok').innerText()).toContain('已向公安机关备案');
  const task = await app.db('tasks').where({ case_id: caseId, status: 'open' }).first('id');

  // P3: Chaoyang's officer neither sees the task in the queue nor opens the task or the case.
  const { context: cyCtx, page: cy } = await loginAs(browser, app.url, chaoyang);
  expect(await cy.locator('main').innerText()).not.toContain('北京浏览器测试科技有限公司');
  const denied = await cy.goto(`/tasks/${task.id}`);
  expect(denied!.status()).toBe(403);
  expect(await cy.locator('main').innerText()).toContain('该任务属于其他辖区');
  await shot(cy, '05-other-district-forbidden');
  expect((await cy.goto(`/cases/${caseId}`))!.status()).toBe(403);
  await cyCtx.close();

  // The right district: the queue, the task page (materials, imprint, timeline), a return with a reason.
  const { context: hdCtx, page: hd } = await loginAs(browser, app.url, haidian);
  expect(hd.url()).toMatch(/\/tasks$/);
  const row = hd.locator('tr', { hasText: '北京浏览器测试科技有限公司' });
  expect(await row.count()).toBe(1);
  await row.getByRole('button', { name: '认领' }).click();
  await hd.waitForURL(/\/tasks/);
  expect(await hd.locator('tr', { hasText: '北京浏览器测试科技有限公司' }).innerText()).toContain('test officer'); // who holds it is shown
  await shot(hd, '06-officer-queue');
  await hd.setViewportSize({ width: 820, height: 1000 }); // tablet width
  await shot(hd, '06b-officer-queue-tablet');
  await hd.setViewportSize({ width: 1366, height: 900 });
  await hd.goto(`/tasks/${task.id}`);
  expect(await hd.locator('.mat-list').innerText()).toContain('依法批准设立或者登记的证件、文书');
  expect(await hd.locator('img.imprint').evaluate((img) => { const i = img as unknown as { complete: boolean; naturalWidth: number }; return i.complete && i.naturalWidth > 0; })).toBe(true);
  expect(await hd.locator('.timeline').innerText()).toContain('提交备案');
  expect(await hd.locator('a', { hasText: 'Temporal Web UI' }).getAttribute('href')).toContain(encodeURIComponent(`application:${caseId}`));
  await shot(hd, '07-task-page');
  const stale = await hdCtx.newPage(); // the same task open in a second tab
  await stale.goto(`/tasks/${task.id}`);
  await hd.locator('#f-reason').fill('经办人电话有误，请更正后重新备案');
  await hd.getByRole('button', { name: '退回' }).click();
  await hd.waitForURL(/\/tasks$/);
  expect(await hd.locator('.flash.ok').innerText()).toContain('已退回');
  // The decision in the stale tab is refused by the workflow, and the page says why at once.
  await stale.getByRole('button', { name: '通过' }).click();
  await stale.waitForLoadState();
  expect(await stale.locator('#page-alert').innerText()).toMatch(/该任务已处理（退回），本次处理未生效/);
  await shot(stale, '08-task-decision-refused');
  await stale.close();

  // The maker sees the reason, files again; the officer accepts.
  await waitForStatus(caseId, 'filing_returned');
  await page.reload();
  expect(await page.locator('main').innerText()).toContain('经办人电话有误');
  await page.getByRole('button', { name: '提交备案' }).click();
  await page.waitForURL(new RegExp(`/cases/${caseId}$`));
  const task2 = await app.db('tasks').where({ case_id: caseId, status: 'open' }).first('id');
  await hd.goto(`/tasks/${task2.id}`);
  await hd.getByRole('button', { name: '通过' }).click();
  await hd.waitForURL(/\/tasks$/);
  await waitForStatus(caseId, 'ready');

  // M10: collection by the handler; then the production certificate.
  await page.reload();
  await page.locator('#f-collector_name').fill('周九');
  await page.locator('#f-collector_id_number').fill(makeResidentId('19700101')); // another birth date, so never the handler: refused beside the field
  await page.getByRole('button', { name: '登记领取' }).click();
  await page.waitForLoadState();
  expect(await page.locator('#f-collector_id_number-msg').innerText()).toContain('与申请经办人不一致');
  await page.locator('#f-collector_id_number').fill(handlerId);
  await page.getByRole('button', { name: '登记领取' }).click();
  await page.waitForURL(new RegExp(`/cases/${caseId}$`));
  expect(await caseStatus(caseId)).toBe('collected');
  await shot(page, '09-case-collected');
  await hdCtx.close();
  await makerCtx.close();

  const seal = await app.db('seals').where({ case_id: caseId }).first('id', 'holder_id');
  journey.sealId = seal.id;
  journey.holderId = seal.holder_id;
  const holder = await browserUser(app.db, 'holder', { holder_id: seal.holder_id });
  const { context: hCtx, page: hp } = await loginAs(browser, app.url, holder);
  expect(hp.url()).toMatch(/\/seals$/);
  const card = hp.locator('article.seal-card');
  expect(await card.innerText()).toContain('合同专用章(1)');
  expect(await card.locator('.chip').innerText()).toBe('已发放');
  const [download] = await Promise.all([hp.waitForEvent('download'), card.getByRole('link', { name: /电子印章制作证书/ }).click()]);
  const chunks: Buffer[] = [];
  for await (const c of (await download.createReadStream())!) chunks.push(c as Buffer);
  expect(Buffer.concat(chunks).subarray(0, 5).toString()).toBe('%PDF-');
  await shot(hp, '10-holder-seals');
  await hCtx.close();
});

test('M3 I1: a filing left past its 24 hours appears on the supervisors\' dashboard, by district and by maker, with a CSV export', async () => {
  // A case whose filing deadline passed 26 hours ago, seeded as the workflow's timer would have left it.
  const holderId = randomUUID();
  const caseId = randomUUID();
  const holderName = `北京逾期备案${caseId.slice(0, 4)}有限公司`;
  await app.db('holders').insert({ id: holderId, uscc: makeUscc('110105'), name: holderName, kind: 'enterprise', district_code: '110105', address: '北京市朝阳区建国路1号' });
  await app.db('cases').insert({ id: caseId, maker_id: makerId, holder_id: holderId, district_code: '110105', status: 'awaiting_filing', language: 'zh', handler_name: '吴十', handler_id_number: makeResidentId(), handler_phone: '13700137000', created_by: maker.id });
  await app.db('seals').insert({ id: randomUUID(), case_id: caseId, holder_id: holderId, kind: 'legal_name', text: holderName, status: 'in_production' });
  const due = new Date(Date.now() - 26 * 3600_000);
  await app.db('filing_deadlines').insert({ case_id: caseId, kind: 'production', district_code: '110105', maker_id: makerId, started_at: new Date(due.getTime() - 24 * 3600_000), due_at: due, overdue_at: due });

  const { context, page } = await loginAs(browser, app.url, supervisor);
  expect(page.url()).toMatch(/\/supervision$/);
  const overdue = page.locator('#overdue-table tr', { hasText: holderName });
  expect(await overdue.innerText()).toMatch(/1 天 2 小时/);
  expect(await page.locator('table.bars', { hasText: '朝阳区' }).innerText()).toContain('朝阳区');
  expect(await page.locator('.stat.bad .num').innerText()).not.toBe('0');
  await shot(page, '11-supervisor-dashboard');
  // Drill-down from the district's number to its cases.
  await page.locator('table.bars a', { hasText: '朝阳区' }).first().click();
  await page.waitForURL(/\/cases\?overdue=1&district=110105/);
  expect(await page.locator('main').innerText()).toContain(holderName);
  // CSV of the overdue filings.
  const csv = await page.request.get('/supervision/overdue.csv');
  expect(csv.headers()['content-type']).toMatch(/^text\/csv/);
  expect(await csv.text()).toContain(holderName);
  // English, remembered in a cookie.
  await page.goto('/supervision?lang=en');
  expect(await page.locator('h1').innerText()).toBe('City supervision');
  await page.goto('/supervision');
  expect(await page.locator('h1').innerText()).toBe('City supervision');
  await shot(page, '12-supervisor-dashboard-en');
  await context.close();
});

test('M12 C1: a seal suspended at its maker shows as suspended to its holder', async () => {
  if (!journey.sealId) throw new Error('needs the seal of the first journey');
  const { context: mCtx, page } = await loginAs(browser, app.url, maker);
  await page.goto(`/seals/${journey.sealId}`);
  await page.locator('#f-change-kind').selectOption('suspend');
  await page.locator('#f-change-legal_rep_id_number').fill(makeResidentId());
  await page.locator('#f-change-handler_name').fill('周九');
  await page.locator('#f-change-handler_id_number').fill(journey.handlerId!);
  await page.locator('#f-change-handler_phone').fill('13900139000');
  await page.locator('#f-change-reason').fill('年度审计期间暂停使用');
  await page.locator('#f-change-authorisation_letter').setInputFiles(pdf('委托授权书.pdf'));
  await page.getByRole('button', { name: '办理', exact: true }).click();
  await page.waitForURL(new RegExp(`/seals/${journey.sealId}$`));
  expect(await page.locator('.flash.ok').innerText()).toContain('已办理');
  await mCtx.close();

  const holder = await browserUser(app.db, 'holder', { holder_id: journey.holderId });
  const { context, page: hp } = await loginAs(browser, app.url, holder);
  await reloadUntil(hp, '暂停使用');
  expect(await hp.locator('article.seal-card .chip').innerText()).toBe('暂停使用');
  await hp.locator('article.seal-card h2 a').click();
  expect(await hp.locator('.notice.warn').innerText()).toContain('暂停使用');
  // C1 on the same page: the holder names a keeper.
  await hp.locator('#f-keeper-name').fill('钱七');
  await hp.locator('#f-keeper-id_number').fill(makeResidentId());
  await hp.getByRole('button', { name: '指定保管人' }).click();
  await hp.waitForURL(new RegExp(`/seals/${journey.sealId}$`));
  expect(await hp.locator('main').innerText()).toContain('钱七');
  await shot(hp, '13-holder-seal-suspended');
  // Readable at tablet width.
  await hp.setViewportSize({ width: 800, height: 1100 });
  await shot(hp, '14-holder-seal-tablet');
  await context.close();
});

it('U2 P2: anyone, without a login, verifies a sealed PDF on the public page: valid, with the seal, its holder and imprint, and downloads the report signed by the platform; the same file with one byte changed is invalid', async () => {
  // A keeper signs a PDF through the API (U1): the document a recipient then checks.
  const seal = await collectedSeal(app, maker, chaoyang);
  const staff = await createUser(app.db, 'holder', { holder_id: seal.holderId });
  const keeperId = makeResidentId('19880101');
  const password = 'Tiger#Lake2049x';
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/keepers`, { name: '孙保管', id_number: keeperId })).status).toBe(201);
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/password`, { id_number: keeperId, password })).status).toBe(201);
  const form = new FormData();
  for (const [k, v] of Object.entries({ id_number: keeperId, password, purpose: '签订采购合同', document_type: 'agreement', format: 'pades' })) form.set(k, v);
  form.set('file', new Blob([await contractPdf()]), '采购合同.pdf');
  const signedRes = await fetch(`${app.url}/api/seals/${seal.sealId}/signatures`, { method: 'POST', headers: { authorization: `Bearer ${staff.token}` }, body: form });
  expect(signedRes.status).toBe(201);
  const signed = Buffer.from(await signedRes.arrayBuffer());
  const holderName = (await app.db('holders').where({ id: seal.holderId }).first('name')).name as string;

  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, baseURL: app.url, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto('/login');
  await page.getByRole('link', { name: '验证电子签章文件' }).click();
  await page.waitForURL(/\/verify$/);
  await page.locator('#f-file').setInputFiles({ name: '采购合同-已盖章.pdf', mimeType: 'application/pdf', buffer: signed });
  await page.getByRole('button', { name: '验证', exact: true }).click();
  const report = page.locator('#report');
  await report.waitFor();
  expect(await report.locator('h2').innerText()).toContain('采购合同-已盖章.pdf');
  const sig = report.locator('article.signature');
  expect(await sig.count()).toBe(1);
  expect(await sig.locator('.verdict').innerText()).toBe('验证通过');
  const facts = await sig.locator('.facts').innerText();
  expect(facts).toContain(holderName);
  expect(facts).toContain('是'); // live when it signed
  expect(await sig.locator('img.imprint').getAttribute('src')).toMatch(/^data:image\/png;base64,/);
  await shot(page, '15-public-verification-valid');
  // The report as a PDF signed by the platform: the button after the report downloads it.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载经平台签名的验证报告（PDF）' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^verification-report-[0-9a-f]{16}\.pdf$/);
  const reportPdf = readFileSync((await download.path())!);
  expect(reportPdf.subarray(0, 5).toString()).toBe('%PDF-');
  expect(reportPdf.includes(Buffer.from('ETSI.CAdES.detached'))).toBe(true); // signed (pdfsig checks it in test/integration/verification-report.test.ts)

  // One byte of the signed content changed: invalid, and said so.
  const tampered = Buffer.from(signed);
  const at = tampered.indexOf(Buffer.from('/Type'));
  tampered[at + 1] = tampered[at + 1] === 0x54 ? 0x55 : 0x54;
  await page.locator('#f-file').setInputFiles({ name: '采购合同-改过.pdf', mimeType: 'application/pdf', buffer: tampered });
  await page.getByRole('button', { name: '验证', exact: true }).click();
  await page.locator('#report h2', { hasText: '采购合同-改过.pdf' }).waitFor();
  expect(await page.locator('#report article.signature .verdict').innerText()).toBe('验证失败');
  await shot(page, '16-public-verification-tampered');
  await context.close();
});
