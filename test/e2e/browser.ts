// Browser tests drive Debian's chromium with playwright-core against the real app (startApp on the
// services of scripts/with-stack.ts). Screenshots of the main pages go to test-artifacts/screens/.
import { mkdirSync } from 'node:fs';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Db } from '../../infra/db';
import { setLoginPassword } from '../../usecases/web-accounts';
import { createUser } from '../helpers/stack';
import type { Role } from '../../web/auth';

export const SCREENS = path.join(__dirname, '..', '..', 'test-artifacts', 'screens');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: bash scripts/bootstrap.sh installs Debian's chromium (or set CHROMIUM_PATH)`);
  mkdirSync(SCREENS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
}

export interface TestUser {
  id: string;
  token: string;
  username: string;
  password: string;
}

/** A user of the role with a browser password (and an API token, for set-up through the JSON API). */
export async function browserUser(db: Db, role: Role, scope: { district_code?: string; maker_id?: string; holder_id?: string } = {}): Promise<TestUser> {
  const u = await createUser(db, role, scope);
  const password = `Pw-${u.id.slice(0, 8)}-2019`;
  await setLoginPassword(db, u.id, password);
  const row = await db('users').where({ id: u.id }).first('username');
  return { ...u, username: row.username, password };
}

/** A fresh browser context (own cookies), logged in as the user through the login form. */
export async function loginAs(browser: Browser, baseUrl: string, user: TestUser, viewport = { width: 1366, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, baseURL: baseUrl, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto('/login');
  await page.locator('#f-username').fill(user.username);
  await page.locator('#f-password').fill(user.password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return { context, page };
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SCREENS, `${name}.png`), fullPage: true });
}

/** Reloads until the page shows the text (workflow steps take a moment to be projected). */
export async function reloadUntil(page: Page, text: string | RegExp, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = await page.locator('main').innerText();
    if (typeof text === 'string' ? body.includes(text) : text.test(body)) return;
    if (Date.now() > deadline) throw new Error(`page ${page.url()} never showed ${String(text)}; it shows:\n${body.slice(0, 1500)}`);
    await page.waitForTimeout(400);
    await page.reload();
  }
}
