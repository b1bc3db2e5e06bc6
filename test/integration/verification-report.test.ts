// The verification report as a PDF signed by the platform (issue 12, U2 P2), through the API (`Accept:
// application/pdf`) and the public page's download, on the real services (Temporal, PostgreSQL, SoftHSM2,
// Chromium and the project's workers). Checked by tools nobody here wrote: poppler's pdfsig with an NSS
// database holding only the platform root, and pdftotext.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { contractPdf, createMaker, makeResidentId } from '../helpers/fixtures';
import { collectedSeal } from '../helpers/journeys';
import { pdfsigTrustingRoot } from '../helpers/pdfsig';

let app: RunningApp;
let rootPem: string;
let signed: Buffer;
let sealCode: string;
/** A file and its detached CMS signature (.p7s) made by the same seal. */
const OTHER_FILE = Buffer.from('采购清单 第1项 办公桌 10张');
let p7s: Buffer;
const GOOD = 'Tiger#Lake2049x';
/** A hostile file name: it ends up in the report, which must show it as text (no '/': multipart keeps only the base name). */
const HOSTILE_NAME = '<script>alert(1)<img src=x onerror=alert(2)>&amp;合同.pdf';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/verification-report');

beforeAll(async () => {
  app = await startApp({ pkiAtWebUrl: true }); // pdfsig (NSS) asks the OCSP responder the certificates name
  rootPem = await (await fetch(`${app.url}/pki/root-ca.pem`)).text();
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const officer = await createUser(app.db, 'officer', { district_code: '110105' });
  const seal = await collectedSeal(app, maker, officer);
  const staff = await createUser(app.db, 'holder', { holder_id: seal.holderId });
  const keeperId = makeResidentId('19880101');
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/keepers`, { name: '孙保管', id_number: keeperId })).status).toBe(201);
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/password`, { id_number: keeperId, password: GOOD })).status).toBe(201);
  const sign = async (format: string, file: Buffer, name: string) => {
    const form = new FormData();
    for (const [k, v] of Object.entries({ id_number: keeperId, password: GOOD, purpose: '签订采购合同', document_type: 'agreement', format })) form.set(k, v);
    form.set('file', new Blob([file]), name);
    const res = await fetch(`${app.url}/api/seals/${seal.sealId}/signatures`, { method: 'POST', headers: { authorization: `Bearer ${staff.token}` }, body: form });
    expect(res.status).toBe(201);
    return Buffer.from(await res.arrayBuffer());
  };
  signed = await sign('pades', await contractPdf(), '合同.pdf');
  p7s = await sign('cms', OTHER_FILE, '采购清单.txt');
  sealCode = (await app.db('seals').where({ id: seal.sealId }).first('seal_code')).seal_code;
}, 120_000);
afterAll(async () => {
  await app?.stop();
});

const pdfsig = (pdf: Buffer) => pdfsigTrustingRoot(pdf, rootPem);

function pdftotext(pdf: Buffer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'report-'));
  writeFileSync(path.join(dir, 'r.pdf'), pdf);
  return execFileSync('pdftotext', ['r.pdf', '-'], { cwd: dir, encoding: 'utf8' });
}

/** The platform's signature is valid and trusted; one byte changed inside the signed report and it is not. */
async function expectSignedByPlatform(pdf: Buffer) {
  const out = await pdfsig(pdf);
  expect(out).toMatch(/Signer Certificate Common Name: 北京市电子印章管理服务平台签名/);
  expect(out).toMatch(/Signature Validation: Signature is Valid\./);
  expect(out).toMatch(/Certificate Validation: Certificate is Trusted\./);
  const tampered = Buffer.from(pdf);
  const at = tampered.indexOf('/MediaBox'); // inside the rendered report, covered by the signature
  expect(at).toBeGreaterThan(0);
  tampered[at + 1] = 'N'.charCodeAt(0); // /MediaBox → /NediaBox
  const bad = await pdfsig(tampered);
  expect(bad).not.toMatch(/Signature Validation: Signature is Valid\./);
  expect(bad).toMatch(/Signature Validation: (Digest Mismatch|Signature is Invalid)/);
}

describe('the verification report signed by the platform', () => {
  it('U2 P2: POST /api/verifications with Accept: application/pdf answers the report as a PDF the platform signed: pdfsig trusts it with the platform root alone and rejects it after one byte changed; pdftotext shows the indication, the seal code and the SHA-256 (of the .p7s too); JSON stays the default', async () => {
    const send = (accept?: string) => {
      const form = new FormData();
      form.set('file', new Blob([signed]), HOSTILE_NAME);
      return fetch(`${app.url}/api/verifications`, { method: 'POST', headers: accept ? { accept } : {}, body: form });
    };
    const json = await send();
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await json.json()) as any).signatures[0].indication).toBe('TOTAL-PASSED');

    const res = await send('application/pdf');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="verification-report-[0-9a-f]{16}\.pdf"$/);
    const pdf = Buffer.from(await res.arrayBuffer());
    await expectSignedByPlatform(pdf);

    const text = pdftotext(pdf).replace(/\s+/g, ' ');
    expect(text).toContain('电子签章验证报告');
    expect(text).toContain('验证通过');
    expect(text).toContain('TOTAL-PASSED');
    expect(text).toContain(sealCode);
    expect(text).toContain(createHash('sha256').update(signed).digest('hex'));
    expect(text).toContain(HOSTILE_NAME); // shown as text, not markup
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(path.join(ARTIFACTS, 'report.pdf'), pdf); // to look at
    // A file and its .p7s: both are named with their SHA-256.
    const both = new FormData();
    both.set('file', new Blob([OTHER_FILE]), '采购清单.txt');
    both.set('signature', new Blob([p7s]), '采购清单.txt.p7s');
    const cms = await fetch(`${app.url}/api/verifications`, { method: 'POST', headers: { accept: 'application/pdf' }, body: both });
    expect(cms.status).toBe(200);
    const cmsText = pdftotext(Buffer.from(await cms.arrayBuffer())).replace(/\s+/g, ' ');
    expect(cmsText).toContain(createHash('sha256').update(OTHER_FILE).digest('hex'));
    expect(cmsText).toContain(createHash('sha256').update(p7s).digest('hex'));
    expect(cmsText).toContain('采购清单.txt.p7s');
    expect(cmsText).toContain('CAdES-BASELINE-B');
    // Answered: the API's copy of the report is not kept.
    expect(await app.db('verification_report_copies').whereNull('token_sha256').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('U2 P2: the public page offers the download after a verification and it answers the same report signed by the platform; a wrong token or a missing form token is refused in both languages', async () => {
    const form = await fetch(`${app.url}/verify`);
    const csrf = /eseal_login_csrf=([^;]+)/.exec(form.headers.getSetCookie().join('\n'))![1]!;
    const cookie = `eseal_login_csrf=${csrf}`;
    const upload = new FormData();
    upload.set('_csrf', decodeURIComponent(csrf));
    upload.set('file', new Blob([signed], { type: 'application/pdf' }), HOSTILE_NAME);
    const page = await fetch(`${app.url}/verify`, { method: 'POST', headers: { cookie }, body: upload });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('action="/verify/report.pdf"');
    expect(html).toContain('下载经平台签名的验证报告（PDF）');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&lt;script&gt;alert(1)');
    const token = /name="report" value="([^"]+)"/.exec(html)![1]!;

    const download = (body: Record<string, string>) =>
      fetch(`${app.url}/verify/report.pdf`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    const res = await download({ _csrf: decodeURIComponent(csrf), report: token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await res.arrayBuffer());
    await expectSignedByPlatform(pdf);
    const text = pdftotext(pdf).replace(/\s+/g, ' ');
    expect(text).toContain('验证通过');
    expect(text).toContain(sealCode);
    expect(text).toContain(createHash('sha256').update(signed).digest('hex'));
    // The page's copy is found by the token's SHA-256 only: the token itself is not stored.
    expect(await app.db('verification_report_copies').where({ token_sha256: token }).first()).toBeUndefined();
    // A second download is the same signed report (kept, not signed again).
    expect(Buffer.from(await (await download({ _csrf: decodeURIComponent(csrf), report: token })).arrayBuffer()).equals(pdf)).toBe(true);

    const forged = await download({ _csrf: decodeURIComponent(csrf), report: 'A'.repeat(43) });
    expect(forged.status).toBe(410);
    expect(await forged.text()).toMatch(/验证报告已过期[\s\S]*|The verification report has expired/);
    const noCsrf = await download({ report: token });
    expect(noCsrf.status).toBe(403);
  });

  it('U2: when the report cannot be signed (no HSM worker), the API answers 503 REPORT_PDF_UNAVAILABLE in both languages with Retry-After, not a 500, and keeps nothing', async () => {
    const lonely = await startApp({ hsmWorker: false, taskQueueSuffix: '-report-no-hsm' });
    process.env.VERIFY_REPORT_PDF_WAIT_MS = '3000';
    try {
      const form = new FormData();
      form.set('file', new Blob([signed]), '合同.pdf');
      const res = await fetch(`${lonely.url}/api/verifications`, { method: 'POST', headers: { accept: 'application/pdf' }, body: form });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      const body = (await res.json()) as any;
      expect(body.error).toMatchObject({ code: 'REPORT_PDF_UNAVAILABLE', message_zh: expect.stringContaining('验证报告'), message_en: expect.stringContaining('verification report') });
      expect(await app.db('verification_report_copies').whereNull('token_sha256').count({ n: '*' }).first()).toEqual({ n: '0' });
    } finally {
      delete process.env.VERIFY_REPORT_PDF_WAIT_MS;
      await lonely.stop();
    }
  });

  it("U2: the verify API judges the chain by the platform's CA certificates as PostgreSQL holds them at the request (the parsed certificates it reuses are dropped when a row changes)", async () => {
    const verifyCms = async () => {
      const form = new FormData();
      form.set('file', new Blob([OTHER_FILE]), '采购清单.txt');
      form.set('signature', new Blob([p7s]), '采购清单.txt.p7s');
      const res = await fetch(`${app.url}/api/verifications`, { method: 'POST', body: form });
      expect(res.status).toBe(200);
      return ((await res.json()) as { signatures: Array<{ indication: string; checks: { chain: boolean } }> }).signatures[0];
    };
    expect(await verifyCms()).toMatchObject({ indication: 'TOTAL-PASSED', checks: { chain: true } });
    // The issuing CA no longer among the trusted ones (as if withdrawn): the next verification finds no chain.
    const issuing: string[] = (await app.db('ca_certificates').where({ purpose: 'issuing' }).select('fingerprint_sha256')).map((r) => r.fingerprint_sha256);
    await app.db('ca_certificates').whereIn('fingerprint_sha256', issuing).update({ purpose: 'platform_signing' });
    try {
      const without = await verifyCms();
      expect(without.checks.chain).toBe(false);
      expect(without.indication).not.toBe('TOTAL-PASSED');
    } finally {
      await app.db('ca_certificates').whereIn('fingerprint_sha256', issuing).update({ purpose: 'issuing' });
    }
    expect(await verifyCms()).toMatchObject({ indication: 'TOTAL-PASSED', checks: { chain: true } });
  });
});
