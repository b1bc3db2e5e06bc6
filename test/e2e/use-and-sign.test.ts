// 三(四) 使用流程 and U1 in a real browser (Debian chromium through playwright-core) against the real app: the
// named approver approves a use request in the holder's approval queue, then the holder's staff open the seal's
// signing page, choose the PDF (its pages drawn by pdf.js), click where the imprint goes, give the keeper's ID
// number and the protection password, and download the signed PDF, which the public verification API accepts
// and whose imprint pdf.js then draws where it was placed. Screenshots in test-artifacts/screens/use-*.png.
import { createHash } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { contractPdf, createMaker, makeResidentId } from '../helpers/fixtures';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { collectedSeal } from '../helpers/journeys';
import path from 'node:path';
import { browserUser, launch, loginAs, SCREENS, shot } from './browser';

let app: RunningApp;
let browser: Browser;
const GOOD = 'Tiger#Lake2049x';

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

test('U1 C1 C2: the approver approves a use in the queue; the keeper signs the approved PDF on the signing page (pdf.js pages, a click places the imprint) and downloads it; it verifies and shows the imprint where it was placed', async () => {
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const officer = await createUser(app.db, 'officer', { district_code: '110105' });
  const seal = await collectedSeal(app, maker, officer, { sealKind: 'legal_name' });
  const staff = await browserUser(app.db, 'holder', { holder_id: seal.holderId });
  const approver = await browserUser(app.db, 'holder', { holder_id: seal.holderId });
  const keeperId = makeResidentId('19880101');
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/keepers`, { name: '孙保管', id_number: keeperId })).status).toBe(201);
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/password`, { id_number: keeperId, password: GOOD })).status).toBe(201);
  const pdf = await contractPdf();

  // On the seal page the staff names the approver (a checkbox per account of the holder), then asks, on the
  // queue page, to use the seal on the contract: the file is hashed, only its name and SHA-256 are kept.
  const { page } = await loginAs(browser, app.url, staff);
  await page.goto(`/seals/${seal.sealId}`);
  await page.locator(`#f-approver-${approver.id}`).check();
  await page.getByRole('button', { name: '保存审批人' }).click();
  await page.waitForURL(new RegExp(`/seals/${seal.sealId}$`));
  expect(await page.locator(`#f-approver-${approver.id}`).isChecked()).toBe(true);
  await page.locator('#use-approvers').scrollIntoViewIfNeeded();
  await shot(page, 'use-00-approvers-named');
  expect((await api(app.url, staff.token, 'GET', `/api/seals/${seal.sealId}/use-approvers`)).body).toMatchObject({ requires_approval: true, approvers: [{ user_id: approver.id }] });
  await page.goto('/use-requests');
  await page.locator('#f-seal_id').selectOption(seal.sealId);
  await page.locator('#f-file').setInputFiles({ name: '采购合同.pdf', mimeType: 'application/pdf', buffer: pdf });
  await page.locator('#f-purpose').fill('签订采购合同');
  await page.locator('#f-document_type').selectOption('agreement');
  await shot(page, 'use-00-request-form');
  await page.locator('#use-request-submit').click();
  await page.waitForURL(/\/use-requests$/);
  const mine = (await api(app.url, staff.token, 'GET', `/api/use-requests?seal_id=${seal.sealId}`)).body.requests;
  expect(mine).toEqual([expect.objectContaining({ document_name: '采购合同.pdf', document_sha256: createHash('sha256').update(pdf).digest('hex'), purpose: '签订采购合同', status: 'pending' })]);
  const created = { body: { id: mine[0].id as string } };

  // The approver's queue: the request, with the decision buttons; approved, it says so.
  const { page: approverPage } = await loginAs(browser, app.url, approver);
  await approverPage.goto('/use-requests');
  const row = approverPage.locator(`tr[data-id="${created.body.id}"]`);
  await expect(row.innerText()).resolves.toContain('签订采购合同');
  await shot(approverPage, 'use-01-approval-queue');
  await row.getByRole('button', { name: '批准', exact: true }).click();
  await approverPage.waitForURL(/\/use-requests$/);
  expect(await approverPage.locator(`tr[data-id="${created.body.id}"]`).getAttribute('data-status')).toBe('approved');
  await shot(approverPage, 'use-02-approved');

  // The signing page: pdf.js draws both pages; a click on page 2 places the imprint.
  await page.goto(`/seals/${seal.sealId}`);
  await page.getByRole('link', { name: '签章' }).click();
  await page.waitForURL(/\/sign$/);
  await page.locator('#f-file').setInputFiles({ name: '采购合同.pdf', mimeType: 'application/pdf', buffer: pdf });
  await page.locator('#pdf-pages[data-rendered="2"]').waitFor();
  const canvas = page.locator('.pdf-page[data-page="2"] canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  await canvas.click({ position: { x: box.width * 0.5, y: box.height * 0.75 } }); // centre: half across, a quarter up
  const placed = { page: await page.locator('#f-page').inputValue(), x: Number(await page.locator('#f-x').inputValue()), y: Number(await page.locator('#f-y').inputValue()) };
  expect(placed.page).toBe('2');
  expect(placed.x).toBeCloseTo(105, 0); // A4: 210 mm wide, 297 mm high
  expect(Math.abs(placed.y - 297 * 0.25)).toBeLessThan(1.5);
  await page.locator('#f-use_request_id').selectOption(created.body.id);
  await page.locator('#f-id_number').fill(keeperId);
  await page.locator('#f-password').fill(GOOD);
  await shot(page, 'use-03-signing-page-placed');
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#sign-submit').click()]);
  expect(download.suggestedFilename()).toBe('采购合同.pdf');
  const signed = Buffer.concat(await (async () => {
    const chunks: Buffer[] = [];
    for await (const c of (await download.createReadStream())!) chunks.push(c as Buffer);
    return chunks;
  })());
  expect(signed.subarray(0, pdf.length).equals(pdf)).toBe(true); // an incremental update: the original bytes first

  // The product's own verification accepts it; the register names the approver and the web channel.
  const form = new FormData();
  form.set('file', new Blob([signed]), '采购合同.pdf');
  const report = (await (await fetch(`${app.url}/api/verifications`, { method: 'POST', body: form })).json()) as any;
  expect(report.signatures).toHaveLength(1);
  expect(report.signatures[0].indication).toBe('TOTAL-PASSED');
  const entry = await app.db('seal_use_register').where({ use_request_id: created.body.id }).first('approver_id', 'channel', 'format');
  expect(entry).toMatchObject({ approver_id: approver.id, channel: 'web', format: 'pades' });

  // pdf.js draws the signed PDF: the imprint is on page 2 where it was placed.
  await page.goto(`/seals/${seal.sealId}/sign`);
  await page.locator('#f-file').setInputFiles({ name: '采购合同-已签章.pdf', mimeType: 'application/pdf', buffer: signed });
  await page.locator('#pdf-pages[data-rendered="2"]').waitFor();
  await page.locator('.pdf-page[data-page="2"]').scrollIntoViewIfNeeded();
  await page.locator('.pdf-page[data-page="2"]').screenshot({ path: path.join(SCREENS, 'use-04-signed-page-2.png') });
  // Red pixels of the imprint around the clicked point, none at the same place on page 1.
  const redAt = (n: number) =>
    page.evaluate((pageNo) => {
       
      const c = (globalThis as any).document.querySelector(`.pdf-page[data-page="${pageNo}"] canvas`);
      const d: Uint8ClampedArray = c.getContext('2d').getImageData(Math.floor(c.width * 0.4), Math.floor(c.height * 0.68), Math.floor(c.width * 0.2), Math.floor(c.height * 0.14)).data;
      let red = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] < 110 && d[i + 2] < 110) red++;
      return red;
    }, n);
  expect(await redAt(2)).toBeGreaterThan(200);
  expect(await redAt(1)).toBe(0);
  await shot(page, 'use-05-signed-rendered');

  // The approval is spent: the signing page offers no approved request any more.
  await page.goto(`/seals/${seal.sealId}/sign`);
  expect(await page.locator('#f-use_request_id option').count()).toBe(1); // only the placeholder: nothing approved left
});
