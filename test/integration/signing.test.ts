// Seals sign documents (U1, C1, C2) and every signature is in the use register (C4), through the JSON API
// on the real services (Temporal, PostgreSQL, SoftHSM2 and the project's workers). What we sign is checked
// by a tool nobody here wrote: `openssl cms -verify`, with the platform root as the only trust anchor.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { contractPdf, createMaker, makeResidentId } from '../helpers/fixtures';
import { changeSealThroughRequest, collectedSeal } from '../helpers/journeys';
import { pdfsigTrustingRoot } from '../helpers/pdfsig';
import { ownerDb } from '../helpers/owner-db';
import { browserUser } from '../e2e/browser';
import type { Db } from '../../infra/db';
import { PDFArray, PDFDict, PDFDocument, PDFName } from '@cantoo/pdf-lib';

let app: RunningApp;
let owner: Db;
let maker: { id: string; token: string };
let officer: { id: string; token: string };
let rootPem: string;
const GOOD = 'Tiger#Lake2049x';

beforeAll(async () => {
  app = await startApp({ pkiAtWebUrl: true }); // pdfsig (NSS) asks the OCSP responder the certificates name
  owner = ownerDb();
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
  rootPem = await (await fetch(`${app.url}/pki/root-ca.pem`)).text();
});
afterAll(async () => {
  await owner?.destroy();
  await app?.stop();
});

/** A collected seal, its holder's staff, and one keeper with the protection password set (through the API). */
async function keptSeal() {
  const seal = await collectedSeal(app, maker, officer);
  const staff = await createUser(app.db, 'holder', { holder_id: seal.holderId });
  const keeperId = makeResidentId('19880101');
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/keepers`, { name: '孙保管', id_number: keeperId })).status).toBe(201);
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/password`, { id_number: keeperId, password: GOOD })).status).toBe(201);
  return { ...seal, staff, keeperId };
}

type Fields = Partial<Record<'id_number' | 'password' | 'purpose' | 'document_type' | 'format' | 'page' | 'x' | 'y' | 'cross_page', string>>;

async function sign(token: string, sealId: string, fields: Fields, file: Buffer | null, filename = '合同.pdf') {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.set(k, v);
  if (file) form.set('file', new Blob([file]), filename);
  const res = await fetch(`${app.url}/api/seals/${sealId}/signatures`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const bytes = Buffer.from(await res.arrayBuffer());
  let body: any = null;
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) body = JSON.parse(bytes.toString('utf8'));
  return { status: res.status, headers: res.headers, bytes, body };
}

const fields = (s: { keeperId: string }, extra: Fields = {}): Fields => ({ id_number: s.keeperId, password: GOOD, purpose: '签订采购合同', document_type: 'agreement', format: 'cms', ...extra });

/** `openssl cms -verify` of a detached signature, trusting only the platform root. */
function opensslVerify(p7s: Buffer, content: Buffer): { ok: boolean; out: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'cms-'));
  writeFileSync(path.join(dir, 'sig.p7s'), p7s);
  writeFileSync(path.join(dir, 'doc'), content);
  writeFileSync(path.join(dir, 'root.pem'), rootPem);
  const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', 'sig.p7s', '-content', 'doc', '-CAfile', 'root.pem', '-purpose', 'any', '-out', '/dev/null'], { cwd: dir, encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

const requestChange = (sealId: string, kind: string) => changeSealThroughRequest(app, maker, officer, sealId, kind);

/** A browser session (through the login form) of a new user of that role; returns its cookie. */
async function browserSession(role: 'holder' | 'supervisor', scope: { holder_id?: string } = {}): Promise<string> {
  const user = await browserUser(app.db, role, scope);
  const form = await fetch(`${app.url}/login`);
  const csrf = /eseal_login_csrf=([^;]+)/.exec(form.headers.getSetCookie().join('\n'))![1]!;
  const login = await fetch(`${app.url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `eseal_login_csrf=${csrf}` }, body: new URLSearchParams({ _csrf: decodeURIComponent(csrf), username: user.username, password: user.password }) });
  expect(login.status).toBe(303);
  return `eseal_sid=${/eseal_sid=([^;]+)/.exec(login.headers.getSetCookie().join('\n'))![1]!}`;
}

const auditEntries = (sealId: string, action: string) => app.db('audit_entries').where({ target_id: sealId, action }).orderBy('seq');

describe('signing through the API', () => {
  let s: Awaited<ReturnType<typeof keptSeal>>;
  beforeAll(async () => {
    s = await keptSeal();
  });

  it('U1 C1 C2: a keeper signs any file with the seal and its password; openssl verifies the .p7s against the platform root alone, and rejects it after tampering', async () => {
    const doc = Buffer.concat([Buffer.from('采购合同 第1条 '), Buffer.alloc(300_000, 7)]);
    const res = await sign(s.staff.token, s.sealId, fields(s), doc, '采购合同.docx');
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/pkcs7-signature');
    expect(res.headers.get('content-disposition')).toContain(`filename*=UTF-8''${encodeURIComponent('采购合同.docx.p7s')}`);
    expect(res.headers.get('x-document-sha256')).toBe(createHash('sha256').update(doc).digest('hex'));

    const good = opensslVerify(res.bytes, doc);
    expect(good).toMatchObject({ ok: true });
    expect(good.out).toMatch(/Verification successful/);

    const altered = Buffer.from(doc);
    altered[100] ^= 1;
    const tampered = opensslVerify(res.bytes, altered);
    expect(tampered.ok).toBe(false);
    expect(tampered.out).toMatch(/content verify error|digest failure/i);

    const badSig = Buffer.from(res.bytes);
    badSig[badSig.length - 10] ^= 0x40; // inside the signature value
    expect(opensslVerify(badSig, doc).ok).toBe(false);

    // CAdES-B-B: content-type, message-digest, signing-certificate-v2 (and signing-time) are signed; the signer
    // is the seal's own certificate.
    const dir = mkdtempSync(path.join(tmpdir(), 'cms-'));
    writeFileSync(path.join(dir, 'sig.p7s'), res.bytes);
    const printed = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', 'sig.p7s'], { cwd: dir, encoding: 'utf8' });
    for (const attr of ['contentType', 'messageDigest', 'signingTime', 'id-smime-aa-signingCertificateV2']) expect(printed).toContain(`object: ${attr}`);
    const seal = await app.db('seals').where({ id: s.sealId }).first('certificate_serial', 'certificate_der');
    const signerInfo = printed.replace(/\s/g, '').split('signerInfos:')[1];
    const serial = /issuerAndSerialNumber:.*?serialNumber:(0x[0-9A-F]+|\d+)digestAlgorithm/.exec(signerInfo)![1]; // openssl prints small serials in decimal
    expect(BigInt(serial)).toBe(BigInt(`0x${seal.certificate_serial}`));
    // signing-certificate-v2 names the seal's certificate by its SHA-256
    expect(signerInfo).toContain(`[HEXDUMP]:${createHash('sha256').update(seal.certificate_der).digest('hex').toUpperCase()}`);
  });

  it('C4: every signature is a use register entry (seal, keeper, purpose, type, name, SHA-256, format, time, client) the holder lists and exports, an audit entry of its own, and the register is append-only', async () => {
    const doc = Buffer.from('公文：关于召开年度会议的通知');
    const res = await sign(s.staff.token, s.sealId, fields(s, { document_type: 'official_document', purpose: '发布会议通知' }), doc, '通知.txt');
    expect(res.status).toBe(201);
    const id = res.headers.get('x-seal-use-id')!;

    const list = await api(app.url, s.staff.token, 'GET', `/api/use-register?seal_id=${s.sealId}&document_type=official_document`);
    expect(list.status).toBe(200);
    const entry = list.body.entries.find((e: any) => e.id === id);
    expect(entry).toMatchObject({
      seal_id: s.sealId,
      keeper_name: '孙保管',
      approver_id: null,
      purpose: '发布会议通知',
      document_type: 'official_document',
      document_type_zh: '公文',
      document_name: '通知.txt',
      document_sha256: createHash('sha256').update(doc).digest('hex'),
      format: 'cms',
      channel: 'api',
      requested_by: s.staff.id,
    });
    expect(entry.client_address).toBeTruthy();
    expect(list.body.entries.every((e: any) => e.document_type === 'official_document')).toBe(true);

    const csv = await fetch(`${app.url}/api/use-register.csv?seal_id=${s.sealId}`, { headers: { authorization: `Bearer ${s.staff.token}` } });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const text = await csv.text();
    expect(text).toContain(id);
    expect(text).toContain('发布会议通知');

    // Another holder sees none of it; a bad filter is named.
    const other = await createUser(app.db, 'holder', { holder_id: (await keptSeal()).holderId });
    expect((await api(app.url, other.token, 'GET', `/api/use-register?seal_id=${s.sealId}`)).body.entries).toEqual([]);
    const bad = await api(app.url, s.staff.token, 'GET', '/api/use-register?from=yesterday&document_type=letter');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.map((f: any) => f.field).sort()).toEqual(['document_type', 'from']);
    expect(bad.body.error.message_zh).toContain('起始时间');
    expect(bad.body.error.message_en).toContain('From');
    expect((await api(app.url, maker.token, 'GET', '/api/use-register')).status).toBe(403);

    const audited = await auditEntries(s.sealId, 'seal.use');
    expect(audited.map((a: any) => a.details.register_id)).toContain(id);

    await expect(owner('seal_use_register').where({ id }).update({ purpose: 'x' })).rejects.toThrow(/M5: seal_use_register rows are records/);
    await expect(owner('seal_use_register').where({ id }).del()).rejects.toThrow(/M5: seal_use_register rows are records/);
    await expect(app.db('seal_use_register').where({ id }).update({ purpose: 'x' })).rejects.toThrow(/permission denied/);
  });

  it('U1 C4: the holder\'s use register page (用印登记) lists its signatures, filters by seal, keeper, date and document type, downloads the same as CSV, and names a bad date', async () => {
    const res = await sign(s.staff.token, s.sealId, fields(s, { document_type: 'voucher', purpose: '报销凭据' }), Buffer.from('凭据'), '报销凭据.txt');
    expect(res.status).toBe(201);
    const id = res.headers.get('x-seal-use-id')!;
    const keeperId = (await api(app.url, s.staff.token, 'GET', `/api/use-register?seal_id=${s.sealId}`)).body.entries.find((e: any) => e.id === id).keeper_id;

    const cookie = await browserSession('holder', { holder_id: s.holderId });
    const page = async (q: string) => {
      const r = await fetch(`${app.url}/use-register?${q}`, { headers: { cookie } });
      return { status: r.status, html: await r.text() };
    };
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const hit = await page(`seal_id=${s.sealId}&keeper_id=${keeperId}&from=${today}&to=${tomorrow}&document_type=voucher`);
    expect(hit.status).toBe(200);
    expect(hit.html).toContain(`data-id="${id}"`);
    expect(hit.html).toContain('报销凭据.txt');
    expect(hit.html).toContain('孙保管');
    expect(hit.html).toContain('href="/use-register"'); // the holder's menu
    for (const miss of [`seal_id=${s.sealId}&document_type=agreement`, `keeper_id=${randomUUID()}`, `to=${today}`]) expect((await page(miss)).html).not.toContain(`data-id="${id}"`);

    // The page's CSV link carries its filters; the session cookie is enough.
    const href = /id="register-csv" href="([^"]+)"/.exec(hit.html)![1].replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
    expect(href).toContain(`keeper_id=${keeperId}`);
    const csv = await fetch(`${app.url}${href}`, { headers: { cookie } });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(await csv.text()).toContain(id);

    const bad = await page('from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('应为 ISO 8601 日期');
  });

  it('C4: supervisors see the signatures counted per district and seal kind (one more after a signature), through the API and on the supervision page; holders and officers may not; a bad time is named', async () => {
    const supervisor = await createUser(app.db, 'supervisor');
    const countOf = async () => {
      const res = await api(app.url, supervisor.token, 'GET', '/api/supervision/seal-use?from=2026-01-01');
      expect(res.status).toBe(200);
      return res.body.counts.find((c: any) => c.district_code === '110105' && c.seal_kind === 'business_contract')?.count ?? 0;
    };
    const before = await countOf();
    expect((await sign(s.staff.token, s.sealId, fields(s), Buffer.from('凭据：收款'))).status).toBe(201);
    expect(await countOf()).toBe(before + 1);
    const all = (await api(app.url, supervisor.token, 'GET', '/api/supervision/seal-use')).body;
    expect(all.counts.find((c: any) => c.district_code === '110105' && c.seal_kind === 'business_contract')).toMatchObject({ seal_kind_zh: '合同专用章' });
    expect(all.total).toBe(all.counts.reduce((n: number, c: any) => n + c.count, 0));
    // The supervision page shows the same counts.
    const html = await (await fetch(`${app.url}/supervision`, { headers: { cookie: await browserSession('supervisor') } })).text();
    const row = /<tr data-district="110105"><td>[^<]*<\/td><td>合同专用章<\/td><td class="num">(\d+)<\/td><\/tr>/.exec(html);
    expect(Number(row?.[1])).toBe(all.counts.find((c: any) => c.district_code === '110105' && c.seal_kind === 'business_contract').count);
    expect(html).toContain(`<span class="count" id="seal-use-total">${all.total}</span>`);
    expect((await api(app.url, s.staff.token, 'GET', '/api/supervision/seal-use')).status).toBe(403);
    expect((await api(app.url, officer.token, 'GET', '/api/supervision/seal-use')).status).toBe(403);
    const bad = await api(app.url, supervisor.token, 'GET', '/api/supervision/seal-use?to=soon');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0]).toMatchObject({ field: 'to', message_zh: expect.stringMatching(/^截止时间：/), message_en: expect.stringMatching(/^To: /) });
  });

  it('U1: 骑缝章: after the seal signed page 1, it signs again across the right edges of both pages (one signature, one slice of the 42 mm imprint per page); pdfsig and pyHanko find both signatures valid, the verify API too', async () => {
    // The seal of this describe's set-up (a new one would cost a whole application journey).
    const first = await sign(s.staff.token, s.sealId, fields(s, { format: 'pades' }), await contractPdf(), '合同.pdf');
    expect(first.status).toBe(201);
    const res = await sign(s.staff.token, s.sealId, fields(s, { format: 'pades', cross_page: 'true', y: '150' }), first.bytes, '合同.pdf');
    expect(res.status).toBe(201);
    const signed = res.bytes;
    expect(signed.subarray(0, first.bytes.length).equals(first.bytes)).toBe(true);

    const [out, hanko, report] = [await pdfsig(signed), await pyhanko(signed), (await verify(signed, null)).body];
    // pdfsig (poppler) lists a field once per widget: the 骑缝章's one signature once per page, each valid.
    // Its NSS check of the same certificate for the same signature a second time in a row has said "Unknown
    // issue" while the next said Trusted: trust is asserted per field, the signature per entry.
    const entries = out.split(/Signature #\d+:/).slice(1);
    expect(entries).toHaveLength(3);
    for (const e of entries) expect(e).toMatch(/Signature Validation: Signature is Valid\./);
    const fieldsTrusted = new Map<string, boolean>();
    for (const e of entries) {
      const name = /Signature Field Name: (.*)/.exec(e)![1];
      fieldsTrusted.set(name, (fieldsTrusted.get(name) ?? false) || /Certificate is Trusted\./.test(e));
    }
    expect([...fieldsTrusted.values()]).toEqual([true, true]);
    expect(out).toMatch(/Signature #3:[\s\S]*Total document signed/);
    expect(hanko.out.match(/:VALID$/gm)).toHaveLength(2);
    expect(hanko.status).toBe(0);
    expect(report.signatures.map((x: any) => x.indication)).toEqual(['TOTAL-PASSED', 'TOTAL-PASSED']);

    // Each page carries one widget of the second signature's field; the slices are 21 mm wide (42 mm / 2
    // pages), 42 mm high, flush with the right edge, and side by side make the whole imprint.
    const doc = await PDFDocument.load(signed);
    const field = (doc.catalog.getAcroForm()!.getAllFields().at(-1)![0]).dict;
    const kids = (field.lookup(PDFName.of('Kids')) as PDFArray).asArray().map((r) => doc.context.lookup(r) as PDFDict);
    expect(kids).toHaveLength(2);
    const size = 42 * MMPT;
    doc.getPages().forEach((page, i) => {
      const annots = (page.node.lookup(PDFName.of('Annots')) as PDFArray).asArray().map((r) => doc.context.lookup(r));
      expect(annots).toContain(kids[i]);
      const rect = (kids[i].lookup(PDFName.of('Rect')) as PDFArray).asArray().map((n: any) => n.asNumber());
      expect(rect[2]).toBeCloseTo(595.28, 1);
      expect(rect[2] - rect[0]).toBeCloseTo(size / 2, 1);
      expect(rect[3] - rect[1]).toBeCloseTo(size, 1);
      expect((rect[1] + rect[3]) / 2).toBeCloseTo(150 * MMPT, 1);
    });
    // What a reader sees: red at the right edge of both pages at that height, and not left of the slice.
    const top = 841.89 - 150 * MMPT - size / 2;
    for (const page of [1, 2]) {
      expect(redShare(signed, { x: 595.28 - size / 2, y: top, w: size / 2, h: size }, page)).toBeGreaterThan(0.03);
      expect(redShare(signed, { x: 595.28 - size, y: top, w: size / 2 - 2, h: size }, page)).toBe(0);
      expect(redShare(first.bytes, { x: 595.28 - size / 2, y: top, w: size / 2, h: size }, page)).toBe(0);
    }
  });

  it('U1: a request without its fields is refused naming each field in Chinese and English, and nothing is signed', async () => {
    const before = await app.db('seal_use_register').where({ seal_id: s.sealId }).count({ n: '*' }).first();
    const res = await sign(s.staff.token, s.sealId, { document_type: 'letter', format: 'xml', purpose: '' }, null);
    expect(res.status).toBe(400);
    expect(res.body.error.fields.map((f: any) => f.field).sort()).toEqual(['document_type', 'file', 'format', 'id_number', 'password', 'purpose']);
    const dt = res.body.error.fields.find((f: any) => f.field === 'document_type');
    // Checked against web/openapi.yaml (the description's labels and values).
    expect(dt.message_zh).toMatch(/^文件类型：应为以下值之一：official_document, licence/);
    expect(dt.message_en).toMatch(/^Document type: must be equal to one of the allowed values: official_document/);
    const pades = await sign(s.staff.token, s.sealId, fields(s, { format: 'pades' }), Buffer.from('not a pdf'));
    expect(pades.status).toBe(400);
    expect(pades.body.error.fields[0].field).toBe('file');
    const after = await app.db('seal_use_register').where({ seal_id: s.sealId }).count({ n: '*' }).first();
    expect(after).toEqual(before);
  });
});

describe('who may sign', () => {
  it('C1: only the holder staff, naming a current keeper: another holder, a stranger and a removed keeper are refused (403, bilingual), each attempt audited', async () => {
    const s = await keptSeal();
    const doc = Buffer.from('凭据');
    const otherHolder = await createUser(app.db, 'holder', { holder_id: (await keptSeal()).holderId });
    const foreign = await sign(otherHolder.token, s.sealId, fields(s), doc);
    expect(foreign.status).toBe(403);

    const stranger = await sign(s.staff.token, s.sealId, fields(s, { id_number: makeResidentId('19900101') }), doc);
    expect(stranger.status).toBe(403);
    expect(stranger.body.error).toMatchObject({ code: 'SIGN_NOT_KEEPER', message_zh: expect.stringContaining('不是此印章的保管人'), message_en: expect.stringContaining('not a keeper') });

    const second = makeResidentId('19770101');
    expect((await api(app.url, s.staff.token, 'POST', `/api/seals/${s.sealId}/keepers`, { name: '钱保管', id_number: second })).status).toBe(201);
    expect((await sign(s.staff.token, s.sealId, fields(s, { id_number: second }), doc)).status).toBe(201); // a keeper knows the password
    expect((await api(app.url, s.staff.token, 'DELETE', `/api/seals/${s.sealId}/keepers`, { id_number: second })).status).toBe(200);
    const removed = await sign(s.staff.token, s.sealId, fields(s, { id_number: second }), doc);
    expect(removed.status).toBe(403);
    expect(removed.body.error.code).toBe('SIGN_NOT_KEEPER');
    // The removal expired the password (the removed keeper knew it): the remaining keeper must change it first.
    const expired = await sign(s.staff.token, s.sealId, fields(s), doc);
    expect(expired.status).toBe(409);
    expect(expired.body.error).toMatchObject({ code: 'SIGN_PASSWORD_EXPIRED', message_zh: expect.stringContaining('过期') });

    const refused = await auditEntries(s.sealId, 'seal.sign');
    expect(refused.filter((a: any) => a.outcome === 'refused').length).toBeGreaterThanOrEqual(3);
    expect(refused.filter((a: any) => a.outcome === 'ok').length).toBe(1);
  });

  it('C2: a wrong password is refused (403 naming the password, attempts left) and counts towards the lock; the fifth locks signing (423) even with the right one', async () => {
    const s = await keptSeal();
    const doc = Buffer.from('流转单');
    for (let i = 1; i <= 4; i++) {
      const wrong = await sign(s.staff.token, s.sealId, fields(s, { password: `Wrong#Pass${i}x` }), doc);
      expect(wrong.status).toBe(403);
      expect(wrong.body.error).toMatchObject({ code: 'WRONG_PASSWORD', details: { attempts_left: 5 - i } });
      expect(wrong.body.error.fields[0]).toMatchObject({ field: 'password', message_zh: expect.stringMatching(/^保护口令：不正确/), message_en: expect.stringMatching(/^Protection password: is wrong/) });
    }
    const fifth = await sign(s.staff.token, s.sealId, fields(s, { password: 'Wrong#Pass5x' }), doc);
    expect(fifth.status).toBe(423);
    expect(fifth.body.error.code).toBe('SIGN_LOCKED');
    const right = await sign(s.staff.token, s.sealId, fields(s), doc);
    expect(right.status).toBe(423);
    expect(right.body.error.message_zh).toContain('锁定至');
    expect(await app.db('seal_use_register').where({ seal_id: s.sealId }).first()).toBeUndefined();
  });

  it('U1: a suspended seal cannot sign (409 SIGN_NOT_LIVE, bilingual); it signs again once resumed', async () => {
    const s = await keptSeal();
    const doc = Buffer.from('证照');
    expect((await sign(s.staff.token, s.sealId, fields(s, { document_type: 'licence' }), doc)).status).toBe(201);
    expect(await requestChange(s.sealId, 'suspend')).toBe('suspended');
    const refused = await sign(s.staff.token, s.sealId, fields(s, { document_type: 'licence' }), doc);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'SIGN_NOT_LIVE', message_zh: expect.stringContaining('不能签章'), message_en: expect.stringContaining('only an active seal can sign') });
    expect(await requestChange(s.sealId, 'resume')).toBe('active');
    expect((await sign(s.staff.token, s.sealId, fields(s, { document_type: 'licence' }), doc)).status).toBe(201);
  });
});

/** POST /api/verifications without a login. */
async function verify(file: Buffer, p7s: Buffer | null) {
  const form = new FormData();
  form.set('file', new Blob([file]), '合同.pdf');
  if (p7s) form.set('signature', new Blob([p7s]), '合同.pdf.p7s');
  const res = await fetch(`${app.url}/api/verifications`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as any };
}

/** The report is what web/openapi.yaml says (VerificationReport), checked with ajv. */
function assertReportSchema(report: unknown) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Ajv2020 = require('ajv/dist/2020').default;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const spec = require('yaml').parse(require('node:fs').readFileSync(path.join(__dirname, '../../web/openapi.yaml'), 'utf8'));
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  const defs = JSON.parse(JSON.stringify(spec.components.schemas).replaceAll('"#/components/schemas/', '"components#/$defs/'));
  ajv.addSchema({ $id: 'components', $defs: defs });
  const validate = ajv.getSchema('components#/$defs/VerificationReport');
  expect({ valid: validate(report), errors: validate.errors ?? null }).toEqual({ valid: true, errors: null });
}

describe('verification (public)', () => {
  let s: Awaited<ReturnType<typeof keptSeal>>;
  const doc = Buffer.concat([Buffer.from('%PDF-1.4 协议书 '), Buffer.alloc(50_000, 3)]);
  let p7s: Buffer;
  let registerId: string;
  beforeAll(async () => {
    s = await keptSeal();
    const res = await sign(s.staff.token, s.sealId, fields(s), doc);
    expect(res.status).toBe(201);
    p7s = res.bytes;
    registerId = res.headers.get('x-seal-use-id')!;
  });

  it('U2 P2: anyone verifies a file and its .p7s without a login: TOTAL-PASSED, the seal and holder, the chain to the platform root, status good then and now, live when it signed (its use register entry); the report follows the OpenAPI schema', async () => {
    const res = await verify(doc, p7s);
    expect(res.status).toBe(200);
    assertReportSchema(res.body);
    const seal = await app.db('seals as s').join('holders as h', 'h.id', 's.holder_id').where('s.id', s.sealId).first('s.seal_code', 'h.name', 'h.uscc', 's.certificate_serial');
    expect(res.body.document).toMatchObject({ sha256: createHash('sha256').update(doc).digest('hex'), size: doc.length });
    expect(res.body.signatures).toHaveLength(1);
    const sig = res.body.signatures[0];
    expect(sig).toMatchObject({
      indication: 'TOTAL-PASSED',
      sub_indication: null,
      signature_format: 'CAdES-BASELINE-B',
      checks: { format: true, message_digest: true, signature_value: true, signing_certificate: true, chain: true },
      seal: { id: s.sealId, seal_code: seal.seal_code, kind: 'business_contract', kind_zh: '合同专用章', status_now: 'active', holder: { name: seal.name, uscc: seal.uscc } },
      seal_live_when_signed: true,
      use_register_id: registerId,
      certificate: { serial: seal.certificate_serial },
      certificate_status: { at_signing_time: 'good', now: 'good', revoked_at: null },
    });
    expect(sig.chain.map((c: any) => c.role)).toEqual(['signer', 'issuing_ca', 'root']);
    expect(sig.chain[2].subject).toContain('北京市电子印章管理服务平台根CA');
    expect(sig.signing_time.use_register).toBeTruthy();
    expect(Math.abs(Date.parse(sig.signing_time.claimed) - Date.parse(sig.signing_time.use_register))).toBeLessThan(60_000);
    expect(opensslVerify(p7s, doc).ok).toBe(true); // and openssl agrees
  });

  it('U2: the report agrees with openssl on what was tampered with: a changed file is TOTAL-FAILED/HASH_FAILURE, a changed signature value TOTAL-FAILED/SIG_CRYPTO_FAILURE, a broken .p7s TOTAL-FAILED/FORMAT_FAILURE', async () => {
    const altered = Buffer.from(doc);
    altered[20] ^= 1;
    const changed = await verify(altered, p7s);
    expect(changed.body.signatures[0]).toMatchObject({ indication: 'TOTAL-FAILED', sub_indication: 'HASH_FAILURE', checks: { message_digest: false, signature_value: true } });
    expect(changed.body.signatures[0].seal_live_when_signed).toBeNull(); // the register's entry is of another document
    expect(changed.body.signatures[0].messages.map((m: any) => m.en).join(' ')).toContain('digest mismatch');
    expect(opensslVerify(p7s, altered).ok).toBe(false);

    const badSig = Buffer.from(p7s);
    badSig[badSig.length - 10] ^= 0x40;
    const forged = await verify(doc, badSig);
    expect(forged.body.signatures[0]).toMatchObject({ indication: 'TOTAL-FAILED', sub_indication: 'SIG_CRYPTO_FAILURE', checks: { message_digest: true, signature_value: false } });
    expect(opensslVerify(badSig, doc).ok).toBe(false);

    const broken = await verify(doc, p7s.subarray(0, 100));
    expect(broken.status).toBe(200);
    expect(broken.body.signatures[0]).toMatchObject({ indication: 'TOTAL-FAILED', sub_indication: 'FORMAT_FAILURE' });
    assertReportSchema(broken.body);
  });

  it('U2: a signature by a certificate the platform did not issue is INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND, as openssl refuses it with the platform root', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const x509 = require('@peculiar/x509');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildSignedAttributes, assembleSignedData } = require('../../infra/signing/cms');
    const { webcrypto, createSign } = await import('node:crypto');
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=北京市电子印章管理服务平台根CA', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000), keys, signingAlgorithm: alg });
    const der = Buffer.from(cert.rawData);
    const tbs = buildSignedAttributes({ messageDigest: createHash('sha256').update(doc).digest(), signerCertificate: der, signingTime: new Date() });
    const key = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const foreign: Buffer = assembleSignedData({ attributes: tbs.attributes, signature: createSign('sha256').update(tbs.der).sign({ key, format: 'der', type: 'pkcs8', dsaEncoding: 'der' }), signerCertificate: der, chain: [] });
    const res = await verify(doc, foreign);
    expect(res.body.signatures[0]).toMatchObject({ indication: 'INDETERMINATE', sub_indication: 'NO_CERTIFICATE_CHAIN_FOUND', checks: { message_digest: true, signature_value: true, chain: false }, seal: null, chain: [] });
    expect(opensslVerify(foreign, doc).ok).toBe(false);
  });

  it('U2: a signature made before the seal was suspended stays TOTAL-PASSED (the use register proves it was live then), and the report says the certificate is on hold now', async () => {
    const t = await keptSeal();
    const made = await sign(t.staff.token, t.sealId, fields(t), doc);
    expect(made.status).toBe(201);
    expect(await requestChange(t.sealId, 'suspend')).toBe('suspended');
    const res = await verify(doc, made.bytes);
    expect(res.body.signatures[0]).toMatchObject({
      indication: 'TOTAL-PASSED',
      seal_live_when_signed: true,
      seal: { status_now: 'suspended' },
      certificate_status: { at_signing_time: 'good', now: 'on_hold', on_hold_since: expect.any(String) },
    });
    expect(res.body.signatures[0].messages.map((m: any) => m.zh).join('')).toContain('暂停使用');
  });

  it('U2: a request without the file or its signature is refused naming both fields in Chinese and English', async () => {
    const res = await fetch(`${app.url}/api/verifications`, { method: 'POST', body: new FormData() });
    const body = (await res.json()) as any;
    expect(res.status).toBe(400);
    expect(body.error.fields.map((f: any) => f.field).sort()).toEqual(['file', 'signature']);
    expect(body.error.message_zh).toContain('签名文件（.p7s）');
    expect(body.error.message_en).toContain('Signature (.p7s)');
  });
});

/** A two-page PDF made here; its second line is a binary comment, which a test may alter without breaking the file. */
const pdfsig = (pdf: Buffer) => pdfsigTrustingRoot(pdf, rootPem);

/** pyHanko (PyPI, scripts/ensure-pyhanko.sh) trusting only the platform root: `field:fingerprint:VALID|INVALID` per signature. */
async function pyhanko(pdf: Buffer): Promise<{ status: number | null; out: string }> {
  const bin = (await promisify(execFile)('bash', [path.join(__dirname, '../../scripts/ensure-pyhanko.sh')], { encoding: 'utf8', timeout: 600_000 })).stdout.trim();
  const dir = mkdtempSync(path.join(tmpdir(), 'pyhanko-'));
  writeFileSync(path.join(dir, 'root.pem'), rootPem);
  writeFileSync(path.join(dir, 'f.pdf'), pdf);
  // Asynchronously: the web server answering the next request is this very process, and an event loop
  // blocked for seconds outlives its keep-alive sockets.
  return new Promise((resolve) => {
    execFile(bin, ['sign', 'validate', '--executive-summary', '--trust', 'root.pem', '--trust-replace', 'f.pdf'], { cwd: dir, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? ((err as { code?: number }).code ?? -1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

/** Share of strongly red pixels (the imprint) in a region of a page rendered by pdftoppm at 72 dpi: x, y, w, h in points from the top left. */
function redShare(pdf: Buffer, region: { x: number; y: number; w: number; h: number }, page = 1): number {
  const dir = mkdtempSync(path.join(tmpdir(), 'render-'));
  writeFileSync(path.join(dir, 'f.pdf'), pdf);
  execFileSync('pdftoppm', ['-r', '72', '-f', String(page), '-l', String(page), '-x', String(Math.round(region.x)), '-y', String(Math.round(region.y)), '-W', String(Math.round(region.w)), '-H', String(Math.round(region.h)), '-singlefile', 'f.pdf', 'p'], { cwd: dir });
  const ppm = require('node:fs').readFileSync(path.join(dir, 'p.ppm')) as Buffer; // eslint-disable-line @typescript-eslint/no-require-imports
  // P6 header: "P6\nW H\n255\n"
  let pos = 0;
  for (let fields = 0; fields < 4; ) {
    while (/\s/.test(String.fromCharCode(ppm[pos]))) pos++;
    while (!/\s/.test(String.fromCharCode(ppm[pos]))) pos++;
    fields++;
  }
  const px = ppm.subarray(pos + 1);
  let red = 0;
  for (let i = 0; i + 2 < px.length; i += 3) if (px[i] > 150 && px[i + 1] < 90 && px[i + 2] < 90) red++;
  return red / (px.length / 3);
}

const MMPT = 72 / 25.4;

describe('PDF signatures (PAdES)', () => {
  it('M10 M13: the production and cancellation certificates carry a PAdES signature in its seal block: the platform key on the maker\'s behalf while the maker has no live seal, then the maker\'s own legal-name seal with its imprint; pdfsig says valid and trusted', async () => {
    const certificatePdf = async (sealId: string) => {
      const res = await fetch(`${app.url}/api/seals/${sealId}/documents/production_certificate.pdf`, { headers: { authorization: `Bearer ${maker.token}` } });
      expect(res.status).toBe(200);
      return Buffer.from(await res.arrayBuffer());
    };
    const first = await collectedSeal(app, maker, officer, { sealKind: 'legal_name' });
    // /Reason is a UTF-16BE hex string (pdfsig does not print it).
    const saysReason = (pdf: Buffer, text: string) => pdf.toString('latin1').toUpperCase().includes(Buffer.from(text, 'utf16le').swap16().toString('hex').toUpperCase());
    const platformSigned = await certificatePdf(first.sealId);
    const byPlatform = await pdfsig(platformSigned);
    expect(byPlatform).toMatch(/Signature Validation: Signature is Valid\./);
    expect(byPlatform).toMatch(/Certificate Validation: Certificate is Trusted\./);
    expect(byPlatform).toContain('Signer Certificate Common Name: 北京市电子印章管理服务平台签名');
    expect(saysReason(platformSigned, 'The maker has no live seal; signed by the platform key')).toBe(true);

    // The maker is a holder too: registered with the first holder's USCC, its legal-name seal signs from now on.
    await owner('makers').where({ id: (await owner('users').where({ id: maker.id }).first('maker_id')).maker_id }).update({ uscc: first.uscc });
    const second = await collectedSeal(app, maker, officer);
    const signed = await certificatePdf(second.sealId);
    const byMaker = await pdfsig(signed);
    expect(byMaker).toMatch(/Signature Validation: Signature is Valid\./);
    expect(byMaker).toMatch(/Certificate Validation: Certificate is Trusted\./);
    expect(saysReason(signed, '电子印章制作证书：制作单位电子印章，由平台代为签署')).toBe(true);
    const sealCert = await (await fetch(`${app.url}/pki/seals/${first.sealId}/certificate.der`)).arrayBuffer();
    const cn = /CN=([^\n]+)/.exec(new X509Certificate(Buffer.from(sealCert)).subject)![1];
    expect(byMaker).toContain(`Signer Certificate Common Name: ${cn}`); // the maker's own seal signed
    expect(redShare(signed, { x: 62 * MMPT - 21 * MMPT, y: 841.89 - 62 * MMPT - 21 * MMPT, w: 42 * MMPT, h: 42 * MMPT })).toBeGreaterThan(0.05); // the imprint in the seal block

    // M13: the seal cancelled, its cancellation certificate signed by the maker's seal in the same way.
    await requestChange(second.sealId, 'cancel');
    const res = await fetch(`${app.url}/api/seals/${second.sealId}/documents/cancellation_certificate.pdf`, { headers: { authorization: `Bearer ${maker.token}` } });
    const cancellation = Buffer.from(await res.arrayBuffer());
    const byMakerAgain = await pdfsig(cancellation);
    expect(byMakerAgain).toMatch(/Signature Validation: Signature is Valid\./);
    expect(byMakerAgain).toContain(`Signer Certificate Common Name: ${cn}`);
    expect(saysReason(cancellation, '电子印章登出证书：制作单位电子印章，由平台代为签署')).toBe(true);
  });

  it('U1: a keeper signs a PDF (PAdES B-B, ETSI.CAdES.detached) with the seal\'s imprint at true size (42 mm) where asked; pdfsig, trusting only the platform root, says valid and trusted; the verify API agrees', async () => {
    const s = await keptSeal();
    const pdf = await contractPdf();
    const res = await sign(s.staff.token, s.sealId, fields(s, { format: 'pades', document_type: 'agreement' }), pdf, '采购合同.pdf');
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const signed = res.bytes;
    expect(signed.subarray(0, pdf.length).equals(pdf)).toBe(true); // an incremental update: the original bytes untouched

    const out = await pdfsig(signed);
    expect(out).toMatch(/Signature Type: ETSI\.CAdES\.detached/);
    expect(out).toMatch(/Signature Validation: Signature is Valid\./);
    expect(out).toMatch(/Certificate Validation: Certificate is Trusted\./);
    expect(out).toMatch(/Total document signed/);

    // Default place: lower right of page 1, centre 20 mm + 21 mm from the right edge and 30 mm + 21 mm from the bottom.
    const size = 42 * MMPT;
    const cx = 595.28 - size / 2 - 20 * MMPT;
    const cy = 841.89 - (size / 2 + 30 * MMPT);
    expect(redShare(signed, { x: cx - size / 2, y: cy - size / 2, w: size, h: size })).toBeGreaterThan(0.05);
    expect(redShare(signed, { x: 40, y: 300, w: size, h: size })).toBe(0); // and nowhere else
    expect(redShare(pdf, { x: cx - size / 2, y: cy - size / 2, w: size, h: size })).toBe(0);

    const report = await verify(signed, null);
    expect(report.status).toBe(200);
    assertReportSchema(report.body);
    expect(report.body.signatures).toHaveLength(1);
    expect(report.body.signatures[0]).toMatchObject({ indication: 'TOTAL-PASSED', signature_format: 'PAdES-BASELINE-B', covers: { kind: 'byte_range', whole_document: true }, seal_live_when_signed: true, seal: { id: s.sealId } });
    const entry = (await api(app.url, s.staff.token, 'GET', `/api/use-register?seal_id=${s.sealId}&format=pades`)).body.entries[0];
    expect(entry).toMatchObject({ format: 'pades', document_name: '采购合同.pdf', id: report.body.signatures[0].use_register_id });
  });

  it('U1: two seals sign one PDF in turn (incremental updates): both signatures stay valid for pdfsig, pyHanko and the verify API, which reports that the first no longer covers the whole file; a changed byte fails both', async () => {
    const a = await keptSeal();
    const b = await keptSeal();
    const first = await sign(a.staff.token, a.sealId, fields(a, { format: 'pades', page: '2', x: '60', y: '60' }), await contractPdf(), '合同.pdf');
    expect(first.status).toBe(201);
    const second = await sign(b.staff.token, b.sealId, fields(b, { format: 'pades', page: '2', x: '150', y: '60' }), first.bytes, '合同.pdf');
    expect(second.status).toBe(201);
    const both = second.bytes;
    expect(both.subarray(0, first.bytes.length).equals(first.bytes)).toBe(true);

    const out = await pdfsig(both);
    expect(out.match(/Signature is Valid\./g)).toHaveLength(2);
    expect(out.match(/Certificate is Trusted\./g)).toHaveLength(2);
    expect(out).toMatch(/Signature #1:[\s\S]*Not total document signed[\s\S]*Signature #2:[\s\S]*Total document signed/);
    // pyHanko also checks that what the second signature appended is a permitted change for the first.
    const hanko = await pyhanko(both);
    expect(hanko.out.match(/:VALID$/gm)).toHaveLength(2);
    expect(hanko.status).toBe(0);

    const report = (await verify(both, null)).body;
    expect(report.signatures.map((x: any) => [x.indication, x.seal.id, x.covers.whole_document])).toEqual([
      ['TOTAL-PASSED', a.sealId, false],
      ['TOTAL-PASSED', b.sealId, true],
    ]);
    expect(report.signatures[0].messages.map((m: any) => m.en).join(' ')).toContain('updated incrementally after this signature');

    // The second line of the file is a binary comment: changing it breaks no parser, only the digests.
    const tampered = Buffer.from(both);
    const at = tampered.indexOf('\n') + 2;
    tampered[at] ^= 0x01;
    const bad = await pdfsig(tampered);
    expect(bad.match(/Digest Mismatch/g)).toHaveLength(2);
    const badHanko = await pyhanko(tampered);
    expect(badHanko.status).not.toBe(0);
    expect(badHanko.out.match(/:VALID$/gm)).toBeNull();
    expect((await verify(tampered, null)).body.signatures.map((x: any) => [x.indication, x.sub_indication])).toEqual([
      ['TOTAL-FAILED', 'HASH_FAILURE'],
      ['TOTAL-FAILED', 'HASH_FAILURE'],
    ]);
  });

  it('U1: a PDF above the streaming threshold (lowered here to 0 bytes) is signed from disk as a stream (object streams, page 2): the original bytes untouched, pdfsig (platform root) and pyHanko valid, the verify API TOTAL-PASSED, the register digest what the ByteRange covers; an unreadable one is refused naming the file', async () => {
    const s = await keptSeal();
    const d = await PDFDocument.create();
    d.addPage([595.28, 841.89]).drawText('Annual report 2026', { x: 60, y: 760, size: 20 });
    d.addPage([595.28, 841.89]).drawText('Seal here', { x: 60, y: 760, size: 20 });
    const pdf = Buffer.from(await d.save({ useObjectStreams: true }));
    const threshold = app.config.pki.padesStreamAboveBytes;
    app.config.pki.padesStreamAboveBytes = 0;
    let res: Awaited<ReturnType<typeof sign>>;
    let broken: Awaited<ReturnType<typeof sign>>;
    try {
      res = await sign(s.staff.token, s.sealId, fields(s, { format: 'pades', page: '2', x: '60', y: '60' }), pdf, '年报.pdf');
      broken = await sign(s.staff.token, s.sealId, fields(s, { format: 'pades' }), Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2000, 0x20), Buffer.from('\nstartxref\n99999\n%%EOF\n')]), 'broken.pdf');
    } finally {
      app.config.pki.padesStreamAboveBytes = threshold;
    }
    expect(res.status).toBe(201);
    expect(Number(res.headers.get('content-length'))).toBe(res.bytes.length);
    const signed = res.bytes;
    expect(signed.subarray(0, pdf.length).equals(pdf)).toBe(true);
    const out = await pdfsig(signed);
    expect(out).toMatch(/Signature Type: ETSI\.CAdES\.detached/);
    expect(out).toMatch(/Signature Validation: Signature is Valid\./);
    expect(out).toMatch(/Certificate Validation: Certificate is Trusted\./);
    expect(out).toMatch(/Total document signed/);
    expect((await pyhanko(signed)).out.match(/:VALID$/gm)).toHaveLength(1);
    const size = 42 * MMPT;
    expect(redShare(signed, { x: 60 * MMPT - size / 2, y: 841.89 - 60 * MMPT - size / 2, w: size, h: size }, 2)).toBeGreaterThan(0.05);
    const report = (await verify(signed, null)).body;
    expect(report.signatures.map((x: any) => [x.indication, x.seal.id, x.covers.whole_document])).toEqual([['TOTAL-PASSED', s.sealId, true]]);
    const br = /\/ByteRange \[(\d+) (\d+) (\d+) (\d+)\s*\]/.exec(signed.toString('latin1'))!.slice(1).map(Number);
    const covered = createHash('sha256').update(signed.subarray(0, br[1])).update(signed.subarray(br[2], br[2] + br[3])).digest('hex');
    expect(res.headers.get('x-document-sha256')).toBe(covered);
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatchObject({ code: 'PDF_UNREADABLE', fields: [expect.objectContaining({ field: 'file' })] });
  });

  it('U2 P2: a signed PDF above the verification threshold (lowered to 0 bytes) is verified from disk: TOTAL-PASSED with its seal and the same report as the in-memory reader, TOTAL-FAILED (HASH_FAILURE) after a covered byte changes, an update appended after the signature reported', async () => {
    const s = await keptSeal();
    const d = await PDFDocument.create();
    d.addPage([595.28, 841.89]).drawText('Large report', { x: 60, y: 760, size: 20 });
    const pdf = Buffer.from(await d.save({ useObjectStreams: true }));
    const res = await sign(s.staff.token, s.sealId, fields(s, { format: 'pades' }), pdf, '大文件.pdf');
    expect(res.status).toBe(201);
    const signed = res.bytes;
    const updated = await PDFDocument.load(signed, { forIncrementalUpdate: true, updateMetadata: false });
    updated.setTitle('changed after the seal');
    const appended = Buffer.from(await updated.commit({ useObjectStreams: false }));
    const tampered = Buffer.from(signed);
    tampered[tampered.indexOf('\n') + 2] ^= 0x01; // the binary comment: the digest breaks, not the parser

    const inMemory = (await verify(signed, null)).body;
    const threshold = app.config.pki.padesStreamAboveBytes;
    app.config.pki.padesStreamAboveBytes = 0;
    let streamed: any;
    let streamedTampered: any;
    let streamedAppended: any;
    try {
      streamed = (await verify(signed, null)).body;
      streamedTampered = (await verify(tampered, null)).body;
      streamedAppended = (await verify(appended, null)).body;
    } finally {
      app.config.pki.padesStreamAboveBytes = threshold;
    }
    expect(streamed.signatures.map((x: any) => [x.indication, x.seal.id, x.seal.seal_code, x.covers.whole_document])).toEqual([['TOTAL-PASSED', s.sealId, inMemory.signatures[0].seal.seal_code, true]]);
    const withoutTime = (r: any) => ({ ...r, validation_time: undefined });
    expect(withoutTime(streamed)).toEqual(withoutTime(inMemory));
    expect(streamedTampered.signatures.map((x: any) => [x.indication, x.sub_indication])).toEqual([['TOTAL-FAILED', 'HASH_FAILURE']]);
    expect(streamedAppended.signatures.map((x: any) => [x.indication, x.covers.whole_document])).toEqual([['TOTAL-PASSED', false]]);
    expect(streamedAppended.signatures[0].messages.map((m: any) => m.en).join(' ')).toContain('updated incrementally after this signature');
    expect(withoutTime(streamedAppended)).toEqual(withoutTime((await verify(appended, null)).body));
  });

  it('U1: a page or position outside the document is refused naming the field; a file that is no PDF too', async () => {
    const s = await keptSeal();
    const page = await sign(s.staff.token, s.sealId, fields(s, { format: 'pades', page: '3' }), await contractPdf());
    expect(page.status).toBe(400);
    expect(page.body.error.fields[0]).toMatchObject({ field: 'page', message_zh: '盖章页码：超出页面（最大 2）', message_en: 'Page: is outside the page (at most 2)' });
    const x = await sign(s.staff.token, s.sealId, fields(s, { format: 'pades', x: '400' }), await contractPdf());
    expect(x.body.error.fields[0].field).toBe('x');
    const none = await verify(Buffer.from('plain text'), null);
    expect(none.status).toBe(400);
    expect(none.body.error.fields[0].field).toBe('signature');
  });
});
