// Checks that whichever web process answers makes no difference (issue 15), by talking to each web process of the
// cluster directly, behind HAProxy's back: a browser session made on one is valid, CSRF-checked and ended on the
// other; a file uploaded through one is read back, identical, through the other; and after a seal is suspended
// through one, `openssl ocsp` asked of the other (whose cache held "good") says it is on hold. Run by
// `npm run cluster:chaos` after its cases, on one of their collected seals.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Db } from '../infra/db';
import { makeResidentId, makeUscc, PDF_BYTES, PNG_BYTES } from '../test/helpers/fixtures';
import { sleep } from '../bench/lib';
import type { RunningCluster } from './cluster';

const run = promisify(execFile);

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

const cookiesOf = (res: Response) => new Map(res.headers.getSetCookie().map((c) => c.split(';')[0].split('=') as [string, string]));
const cookieHeader = (jar: Map<string, string>) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

async function sessions(cluster: RunningCluster): Promise<CheckResult> {
  const [a, b] = cluster.webUrls;
  const maker = cluster.logins.find((l) => l.username === 'maker')!;
  const jar = new Map<string, string>();
  const form = await fetch(`${a}/login`);
  for (const [k, v] of cookiesOf(form)) jar.set(k, v);
  const loginCsrf = csrfOf(await form.text());
  const login = await fetch(`${b}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookieHeader(jar), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: loginCsrf ?? '', username: maker.username, password: maker.password ?? '' }),
  });
  for (const [k, v] of cookiesOf(login)) jar.set(k, v);
  if (login.status !== 303) return { name: 'sessions', ok: false, detail: `login form from web-1 posted to web-2: HTTP ${login.status}` };
  const page = await fetch(`${a}/cases`, { redirect: 'manual', headers: { cookie: cookieHeader(jar) } });
  const html = await page.text();
  if (page.status !== 200) return { name: 'sessions', ok: false, detail: `session made on web-2, /cases on web-1: HTTP ${page.status}` };
  const logout = await fetch(`${b}/logout`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookieHeader(jar), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfOf(html) ?? '' }),
  });
  const after = await fetch(`${a}/cases`, { redirect: 'manual', headers: { cookie: cookieHeader(jar) } });
  const ok = logout.status === 303 && after.status !== 200;
  return {
    name: 'sessions',
    ok,
    detail: `login form shown by web-1, posted to web-2 (303); the session opens /cases on web-1 (200); its page's CSRF token logs out on web-2 (${logout.status}); web-1 then refuses the cookie (${after.status} ${after.headers.get('location') ?? ''})`,
  };
}

async function uploads(cluster: RunningCluster, db: Db, tokens: { admin: string; maker: string }): Promise<CheckResult> {
  const [a, b] = cluster.webUrls;
  const json = async (url: string, token: string, method: string, p: string, body?: unknown) => {
    const res = await fetch(url + p, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const uscc = makeUscc('110108');
  const holder = { uscc, name: `北京集群上传检查${uscc.slice(-4)}有限公司`, kind: 'enterprise', address: '北京市海淀区中关村南大街5号', district: '110108', legal_representative: '王五' };
  await json(a, tokens.admin, 'POST', '/api/registration/holders', { ...holder, registration_date: new Date().toISOString().slice(0, 10) });
  const created = await json(a, tokens.maker, 'POST', '/api/applications', {
    holder: { uscc, name: holder.name, kind: 'enterprise', address: holder.address, district: '110108' },
    seal: { kind: 'legal_name', language: 'zh' },
    handler: { name: '赵六', id_number: makeResidentId(), phone: '13700137001' },
  });
  if (created.status !== 201) return { name: 'uploads', ok: false, detail: `submission: HTTP ${created.status}` };
  const caseId = created.body.id as string;
  for (let i = 0; i < 60 && (await db('cases').where({ id: caseId }).first('status')).status !== 'awaiting_production'; i++) await sleep(500);
  const bytes = Buffer.concat([PNG_BYTES, randomBytes(300_000)]); // a PNG by its first bytes; several 64 KiB chunks encrypted
  const form = new FormData();
  form.set('kind', 'on_site_image');
  form.set('file', new Blob([bytes]), 'onsite.png');
  const up = await fetch(`${a}/api/applications/${caseId}/materials`, { method: 'POST', headers: { authorization: `Bearer ${tokens.maker}` }, body: form });
  const material = (await up.json()) as { id: string };
  if (up.status !== 201) return { name: 'uploads', ok: false, detail: `upload to web-1: HTTP ${up.status} ${JSON.stringify(material).slice(0, 300)}` };
  const read = await fetch(`${b}/api/materials/${material.id}`, { headers: { authorization: `Bearer ${tokens.maker}` } });
  const back = Buffer.from(await read.arrayBuffer());
  const ok = read.status === 200 && back.equals(bytes);
  return { name: 'uploads', ok, detail: `${bytes.length} bytes uploaded to web-1, read back from web-2: HTTP ${read.status}, ${back.equals(bytes) ? 'identical' : `different (${back.length} bytes)`}` };
}

async function ocspInvalidation(cluster: RunningCluster, db: Db, makerToken: string, sealId: string): Promise<CheckResult> {
  const [a, b] = cluster.webUrls;
  const dir = mkdtempSync(path.join(tmpdir(), 'cluster-ocsp-'));
  try {
    const row = await db('seals').where({ id: sealId }).first('certificate_der');
    writeFileSync(path.join(dir, 'seal.der'), row.certificate_der);
    await run('openssl', ['x509', '-inform', 'DER', '-in', 'seal.der', '-out', 'seal.pem'], { cwd: dir });
    const ca = async (name: string) => writeFileSync(path.join(dir, name), Buffer.from(await (await fetch(`${cluster.url}/pki/${name}`)).arrayBuffer()));
    await ca('issuing-ca.pem');
    await ca('root-ca.pem');
    await run('sh', ['-c', 'cat issuing-ca.pem root-ca.pem > chain.pem'], { cwd: dir });
    // Without a nonce, as RFC 5019 clients ask: the answer each process caches.
    const ask = async (url: string) => {
      const { stdout } = await run('openssl', ['ocsp', '-no_nonce', '-issuer', 'issuing-ca.pem', '-cert', 'seal.pem', '-url', `${url}/pki/ocsp`, '-CAfile', 'chain.pem'], { cwd: dir });
      return /seal\.pem: (\w+)/.exec(stdout)?.[1] ?? stdout.trim();
    };
    const before = [await ask(a), await ask(b), await ask(b)];
    const form = new FormData();
    for (const [k, v] of Object.entries({ kind: 'suspend', reason: '集群检查：暂停', legal_rep_id_number: makeResidentId(), handler_name: '冯十二', handler_id_number: makeResidentId(), handler_phone: '13600136000' })) form.set(k, v);
    form.set('authorisation_letter', new Blob([PDF_BYTES]), 'letter.pdf');
    const change = await fetch(`${a}/api/seals/${sealId}/changes`, { method: 'POST', headers: { authorization: `Bearer ${makerToken}` }, body: form });
    const changed = (await change.json()) as { seal_status?: string };
    // The NOTIFY reaches every process within milliseconds; the cache is bounded to ~10 s if a LISTEN is lost.
    let afterB = '';
    const start = Date.now();
    while (Date.now() - start < 10_000 && (afterB = await ask(b)) === 'good') await sleep(100);
    const afterA = await ask(a);
    const ok = before.every((s) => s === 'good') && change.status < 300 && afterB === 'revoked' && afterA === 'revoked';
    return {
      name: 'OCSP cache invalidation',
      ok,
      detail: `before: web-1 ${before[0]}, web-2 ${before[1]} (cached ${before[2]}); suspended through web-1 (HTTP ${change.status}, seal ${changed.seal_status}); then web-2 ${afterB} after ${Date.now() - start} ms, web-1 ${afterA} (on hold)`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function checkAcrossWebProcesses(cluster: RunningCluster, db: Db, sealId: string): Promise<CheckResult[]> {
  const token = (u: string) => cluster.logins.find((l) => l.username === u)!.token;
  const results: CheckResult[] = [];
  for (const check of [
    () => sessions(cluster),
    () => uploads(cluster, db, { admin: token('admin'), maker: token('maker') }),
    () => ocspInvalidation(cluster, db, token('maker'), sealId),
  ]) {
    try {
      results.push(await check());
    } catch (e) {
      results.push({ name: 'check', ok: false, detail: (e as Error).message });
    }
  }
  return results;
}
