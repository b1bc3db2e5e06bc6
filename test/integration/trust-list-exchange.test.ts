// I2 (issue 13): filing and recognition of other systems' seals, through the product's own paths on the real
// services. ofdrw (tools/ofdrw-checker) plays the other platform: its own SM2 root CA and seal maker, its
// seals (SESeal v4) and signed OFD documents; its CRL is served by a tiny HTTP server in this process.
// Supervisors list the platform (four eyes, through the change workflow's Update), its API client (tier platform) files
// seals through /api/exchange/filings, the verification service recognises its signatures, the Temporal
// Schedule refreshes the cached CRL, and /api/exchange/seals offers our seals. OpenSSL plays a second
// platform (test/helpers/openssl-platform.ts: RSA root, ECDSA and RSA seal certificates, its CRL and `openssl
// ocsp` answers served by the same HTTP server) whose X.509 seals are filed and sign PDFs and .p7s files
// outside our HSM. One set-up for the file.
import { sign as cryptoSign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { contractPdf, createMaker, makeUscc } from '../helpers/fixtures';
import { collectedSeal } from '../helpers/journeys';
import { OfdrwChecker } from '../helpers/ofdrw-checker';
import { minimalOfd } from '../helpers/ofd';
import { freePorts } from '../helpers/ports';
import { eventually } from '../helpers/wait';
import { OpensslPlatform, type OpensslSeal } from '../helpers/openssl-platform';
import { renderImprint } from '../../infra/imprint';
import { signPdf } from '../../infra/signing/pades';
import { assembleSignedData, buildSignedAttributes } from '../../infra/signing/cms';
import { clientAccessToken, newClient } from '../helpers/oauth-client';
import { tokenEndpoint } from '../../usecases/api-clients';
import { ensureForeignCrlSchedule, FOREIGN_CRL_SCHEDULE_ID } from '../../usecases/foreign-crl-schedule';

let app: RunningApp;
let ofdrw: OfdrwChecker;
let dir: string;
let crlServer: Server;
let crlUrl: string;
let crl = Buffer.alloc(0);
// The OpenSSL platform (TJ): its CRL, its OCSP responder (down while `tjOcspDown`), its seals.
let tj: OpensslPlatform;
let tjCrl: Buffer = Buffer.alloc(0);
let tjOcspDown = false;
let tjUrls: { crl: string; ocsp: string };
const tjSeals: Record<string, OpensslSeal> = {};
let strangerSeal: OpensslSeal;
let supA: { id: string; token: string };
let supB: { id: string; token: string };
let officerHaidian: { id: string; token: string };
let officerChaoyang: { id: string; token: string };
let exchange: { token: string };
let ours: Awaited<ReturnType<typeof collectedSeal>>;
const file = (name: string) => path.join(dir, name);
const b64 = async (name: string) => (await readFile(file(name))).toString('base64');
const HOLDER_USCC = makeUscc('110108');
const HOLDER = '杭州互认示范有限公司';

beforeAll(async () => {
  const [port] = await freePorts(1);
  let ocspRequests = 0;
  crlServer = createServer((req, res) => {
    if (req.url === '/tj.crl') return void res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(tjCrl);
    if (req.url === '/tj-ocsp') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (tjOcspDown) return void res.writeHead(503).end();
        tj.answerOcsp(Buffer.concat(chunks), String(++ocspRequests)).then(
          (answer) => res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(answer),
          () => res.writeHead(500).end(),
        );
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crl);
  });
  await new Promise<void>((resolve) => crlServer.listen(port, '127.0.0.1', resolve));
  crlUrl = `http://127.0.0.1:${port}/other.crl`;
  tjUrls = { crl: `http://127.0.0.1:${port}/tj.crl`, ocsp: `http://127.0.0.1:${port}/tj-ocsp` };
  [app, ofdrw] = await Promise.all([startApp(), OfdrwChecker.start()]);
  dir = await mkdtemp(path.join(os.tmpdir(), 'eseal-i2-'));
  // The OpenSSL platform and its seals, and a platform no one listed.
  const openssl = async () => {
    tj = await OpensslPlatform.create(file('tj'), 'Tianjin E-Seal', tjUrls.ocsp);
    for (const [name, key, crlOnly] of [['legal', 'ec', false], ['contract', 'rsa', false], ['revokedCrl', 'ec', true], ['revokedOcsp', 'ec', false], ['quiet', 'ec', false]] as const) {
      tjSeals[name] = await tj.issue(name, { key, holder: 'Tianjin Demo Co', crlOnly });
    }
    tjCrl = await tj.crl();
    const stranger = await OpensslPlatform.create(file('stranger-x509'), 'Nowhere E-Seal', tjUrls.ocsp);
    strangerSeal = await stranger.issue('seal', { key: 'ec', holder: 'Nowhere Co' });
  };
  [supA, supB, officerHaidian, officerChaoyang] = await Promise.all([createUser(app.db, 'supervisor'), createUser(app.db, 'supervisor'), createUser(app.db, 'officer', { district_code: '110108' }), createUser(app.db, 'officer', { district_code: '110105' })]);
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  // One seal of ours (legal-name, 朝阳区) while ofdrw makes the other platform and its seals (BouncyCastle SM2).
  const other = async () => {
    await writeFile(file('imprint.png'), renderImprint({ holderName: HOLDER, sealKind: 'legal_name', sealCode: '3301080000001' }).png);
    expect(await ofdrw.run('make-platform', file('zj'), 'Zhejiang E-Seal')).toMatchObject({ ok: true });
    for (const s of ['legal', 'contract', 'contract2', 'revoked']) expect(await ofdrw.run('make-seal', file(s), HOLDER, file('imprint.png'), file('zj'))).toMatchObject({ ok: true });
    expect(await ofdrw.run('make-seal', file('stranger'), HOLDER, file('imprint.png'))).toMatchObject({ ok: true }); // self-made maker, not on the list
    expect(await ofdrw.run('make-crl', file('zj'), file('empty.crl'))).toMatchObject({ ok: true, revoked: 0 });
    crl = await readFile(file('empty.crl'));
  };
  [ours] = await Promise.all([collectedSeal(app, maker, officerChaoyang, { sealKind: 'legal_name' }), other(), openssl()]);
}, 120_000);

afterAll(async () => {
  ofdrw?.stop();
  await app?.stop();
  await new Promise((resolve) => crlServer?.close(resolve));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function propose(token: string, body: unknown, platformId?: string) {
  return api(app.url, token, 'POST', platformId ? `/api/trust-list/platforms/${platformId}/changes` : '/api/trust-list/platforms', body);
}
const decide = (token: string, changeId: string, decision: string, reason?: string) => api(app.url, token, 'POST', `/api/trust-list/changes/${changeId}/decision`, { decision, reason });
/** A change proposed by A and approved by B (four eyes). */
async function changeApproved(body: unknown, platformId: string) {
  const p = await propose(supA.token, body, platformId);
  expect(p.status).toBe(202);
  expect((await decide(supB.token, p.body.change_id, 'approve')).body).toMatchObject({ status: 'approved' });
}

async function fileSeal(fields: Record<string, string>, files: Record<string, Buffer>) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  for (const [k, v] of Object.entries(files)) form.set(k, new Blob([v]), `${k}.bin`);
  const res = await fetch(`${app.url}/api/exchange/filings`, { method: 'POST', headers: { authorization: `Bearer ${exchange.token}` }, body: form });
  return { status: res.status, body: (await res.json()) as any };
}
const holderFields = (kind = 'legal_name', number?: string) => ({ holder_uscc: HOLDER_USCC, holder_name: HOLDER, seal_kind: kind, district_code: '110108', ...(number ? { seal_number: number } : {}) });

async function verify(doc: Buffer) {
  const form = new FormData();
  form.set('file', new Blob([doc]), '互认.ofd');
  const res = await fetch(`${app.url}/api/verifications`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as any };
}

/** The Schedule's run, triggered now: the cached CRL is fetched again (as it is every hour). */
async function refreshCrlsBySchedule(expectRevoked: string[], platform = platformId) {
  await ensureForeignCrlSchedule(app.temporalClient.connection, app.config);
  await app.temporalClient.schedule.getHandle(FOREIGN_CRL_SCHEDULE_ID).trigger();
  await eventually('the refreshed CRL in the cache', () => app.db('foreign_crls').where({ platform_id: platform }).first('revoked'), (row) => !!row && expectRevoked.every((s) => s in row.revoked));
}

/** POST /api/verifications with the given parts; the report's first signature. */
async function verifyParts(parts: Record<string, [Buffer, string, string]>) {
  const form = new FormData();
  for (const [k, [bytes, name, type]] of Object.entries(parts)) form.set(k, new Blob([bytes], { type }), name);
  const res = await fetch(`${app.url}/api/verifications`, { method: 'POST', body: form });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).signatures[0];
}

/** A PAdES signature by another platform's seal: the CMS made with its key in this process, not our HSM. */
async function foreignPdf(seal: OpensslSeal, signingTime = new Date()): Promise<Buffer> {
  return signPdf({
    pdf: await contractPdf(),
    imprintPng: renderImprint({ holderName: '天津互认示范有限公司', sealKind: 'legal_name', sealCode: '1201010000001' }).png,
    placement: { page: 1, sizeMm: 42 },
    signingTime,
    name: seal.name,
    reason: '互认测试',
    signCms: async (coveredSha256) => {
      const { attributes, der } = buildSignedAttributes({ messageDigest: coveredSha256, signerCertificate: seal.certDer });
      return assembleSignedData({ attributes, signature: cryptoSign('sha256', der, { key: seal.keyPem, dsaEncoding: 'der' }), signerCertificate: seal.certDer, chain: [] });
    },
  });
}

let platformId: string;
const serial: Record<string, string> = {};

describe('I2: other platforms listed, their seals filed and recognised', () => {
  it('I2: a supervisor proposes listing another platform; it takes effect only when a second supervisor approves (four eyes), both audited', async () => {
    const bad = await propose(supA.token, { code: 'ZJ-ESEAL', name: '浙江省电子印章平台', root_certificates: [Buffer.from('not a certificate').toString('base64')] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0]).toMatchObject({ field: 'root_certificates[0]', message_zh: expect.stringContaining('根证书'), message_en: expect.stringContaining('Root certificates') });
    expect((await propose(officerHaidian.token, { code: 'ZJ-ESEAL' })).status).toBe(403);

    const p = await propose(supA.token, { code: 'ZJ-ESEAL', name: '浙江省电子印章平台', status: 'active', root_certificates: [await b64('zj/root.cer')], maker_certificates: [await b64('zj/maker.cer')], crl_url: crlUrl });
    expect(p.status).toBe(202);
    expect(p.body).toMatchObject({ status: 'pending', kind: 'create', proposal: { code: 'ZJ-ESEAL', root_certificates: [{ subject: expect.stringContaining('Zhejiang E-Seal Root CA') }] } });
    platformId = p.body.platform_id;
    expect((await api(app.url, supB.token, 'GET', '/api/trust-list')).body.platforms).toEqual([]); // not listed yet

    const own = await decide(supA.token, p.body.change_id, 'approve');
    expect(own.status).toBe(403);
    expect(own.body.error).toMatchObject({ code: 'FOUR_EYES' });
    expect((await decide(supB.token, p.body.change_id, 'reject')).status).toBe(400); // a rejection needs a reason
    const ok = await decide(supB.token, p.body.change_id, 'approve');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'approved', decided_by: 'test supervisor' });
    expect((await decide(supB.token, p.body.change_id, 'reject', '晚了')).status).toBe(409);
    const list = (await api(app.url, supA.token, 'GET', '/api/trust-list')).body;
    expect(list.platforms).toEqual([expect.objectContaining({ id: platformId, code: 'ZJ-ESEAL', status: 'active', crl_url: crlUrl, certificates: [expect.objectContaining({ role: 'maker' }), expect.objectContaining({ role: 'root' })] })]);
    const audit = await app.db('audit_entries').where({ target_id: platformId }).orderBy('seq').select('action', 'actor_user_id');
    expect(audit).toEqual([{ action: 'trust_list.propose', actor_user_id: supA.id }, { action: 'trust_list.decide', actor_user_id: supB.id }]);

    // Its data exchange is an API client of the platform tier (OAuth client credentials, scope exchange),
    // registered by a supervisor for a listed platform only.
    const unlisted = await api(app.url, supA.token, 'POST', '/api/clients', { name: '未列名平台', tier: 'platform', platform_code: 'XX-NONE', public_key: { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' } });
    expect(unlisted.status).toBe(422);
    expect(unlisted.body.error).toMatchObject({ code: 'PLATFORM_NOT_FOUND', fields: [expect.objectContaining({ field: 'platform_code' })] });
    const client = await newClient(app.url, supA.token, { name: '浙江省电子印章平台（数据交换）', tier: 'platform', platform_code: 'ZJ-ESEAL' });
    exchange = { token: await clientAccessToken(app.url, tokenEndpoint(app.config), client) };
    const outOfScope = await api(app.url, exchange.token, 'POST', '/api/verifications', {});
    expect(outOfScope.status).toBe(403);
    expect(outOfScope.body.error).toMatchObject({ code: 'insufficient_scope' });
  });

  it('I2: the platform files its seals (SESeal v4) through the exchange API; bad structures, unknown issuers, revoked certificates and duplicates are refused naming the field; filings are the district\'s', async () => {
    const garbage = await fileSeal(holderFields(), { seal: Buffer.from('0123456789') });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error).toMatchObject({ code: 'SEAL_UNREADABLE', fields: [{ field: 'seal', message_zh: expect.stringContaining('电子印章数据'), message_en: expect.stringContaining('Seal data') }] });
    const stranger = await fileSeal(holderFields(), { seal: await readFile(file('stranger/seal.esl')) });
    expect(stranger.status).toBe(422);
    expect(stranger.body.error).toMatchObject({ code: 'UNKNOWN_ISSUER', fields: [{ field: 'seal' }] });

    const filed = await fileSeal(holderFields(), { seal: await readFile(file('legal/seal.esl')) });
    expect(filed).toMatchObject({ status: 201 });
    expect(filed.body).toMatchObject({ platform: { code: 'ZJ-ESEAL' }, district_code: '110108', format: 'ses_v4', holder: { uscc: HOLDER_USCC, name: HOLDER }, seal_kind: 'legal_name', status: 'filed' });
    const again = await fileSeal(holderFields(), { seal: await readFile(file('legal/seal.esl')) });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'ALREADY_FILED', fields: [{ field: 'seal' }] });

    // A1: one live legal-name seal per holder (ours count), business numbers never reused.
    const secondLegal = await fileSeal(holderFields(), { seal: await readFile(file('contract/seal.esl')) });
    expect(secondLegal.status).toBe(409);
    expect(secondLegal.body.error).toMatchObject({ code: 'LEGAL_NAME_SEAL_EXISTS', fields: [{ field: 'seal_kind' }] });
    const oursTaken = await fileSeal({ ...holderFields(), holder_uscc: ours.uscc, holder_name: ours.view.holder.name, district_code: '110105' }, { seal: await readFile(file('contract/seal.esl')) });
    expect(oursTaken.body.error).toMatchObject({ code: 'LEGAL_NAME_SEAL_EXISTS', fields: [{ field: 'seal_kind' }] });
    expect((await fileSeal(holderFields('business_contract', '1'), { seal: await readFile(file('contract/seal.esl')) })).status).toBe(201);
    const numberUsed = await fileSeal(holderFields('business_contract', '1'), { seal: await readFile(file('contract2/seal.esl')) });
    expect(numberUsed.status).toBe(409);
    expect(numberUsed.body.error).toMatchObject({ code: 'SEAL_NUMBER_USED', fields: [{ field: 'seal_number', message_en: expect.stringContaining('(1)') }] });

    // Revoked in the platform's CRL, as the Schedule fetched it: refused.
    serial.revoked = readSerial('revoked');
    expect(await ofdrw.run('make-crl', file('zj'), file('r.crl'), serial.revoked)).toMatchObject({ ok: true, revoked: 1 });
    crl = await readFile(file('r.crl'));
    await refreshCrlsBySchedule([serial.revoked]);
    const revoked = await fileSeal(holderFields('business_invoice', '1'), { seal: await readFile(file('revoked/seal.esl')) });
    expect(revoked.status).toBe(422);
    expect(revoked.body.error).toMatchObject({ code: 'CERTIFICATE_REVOKED', fields: [{ field: 'seal' }] });

    // Visible like our own filings: the district's officer and supervisors, not another district's officer.
    const haidian = (await api(app.url, officerHaidian.token, 'GET', '/api/external-seals')).body.filings;
    expect(haidian.map((f: any) => f.seal_kind_zh).sort()).toEqual(['合同专用章(1)', '法定名称章'].sort());
    expect((await api(app.url, officerChaoyang.token, 'GET', '/api/external-seals')).body.filings).toEqual([]);
    expect((await api(app.url, supA.token, 'GET', '/api/external-seals')).body.filings).toHaveLength(2);
    expect((await api(app.url, officerHaidian.token, 'GET', '/api/trust-list')).status).toBe(403);
  });

  it('I2: the verification service recognises an OFD signed with a filed seal (platform named); not while the platform is suspended, nor once its CRL revokes the certificate', async () => {
    await writeFile(file('plain.ofd'), minimalOfd('浙江省平台签发的通知'));
    expect(await ofdrw.run('sign-ofd', file('legal'), file('plain.ofd'), file('signed.ofd'))).toMatchObject({ ok: true });
    const signed = await readFile(file('signed.ofd'));
    const ok = (await verify(signed)).body.signatures[0];
    expect(ok).toMatchObject({ indication: 'TOTAL-PASSED', platform: { code: 'ZJ-ESEAL', name: '浙江省电子印章平台' }, seal: { holder: { uscc: HOLDER_USCC }, kind: 'legal_name' }, checks: { chain: true }, certificate_status: { now: 'good' } });
    expect(ok.chain.map((c: any) => c.role)).toEqual(['signer', 'root']);

    await changeApproved({ status: 'suspended' }, platformId);
    const suspended = (await verify(signed)).body.signatures[0];
    expect(suspended).toMatchObject({ indication: 'INDETERMINATE', sub_indication: 'NO_CERTIFICATE_CHAIN_FOUND', platform: { status: 'suspended' } });
    expect(suspended.messages.map((m: any) => m.en).join(' ')).toContain('suspended');
    expect((await fileSeal(holderFields('business_invoice', '1'), { seal: await readFile(file('contract2/seal.esl')) })).body.error).toMatchObject({ code: 'PLATFORM_NOT_ACTIVE' });
    expect((await api(app.url, exchange.token, 'GET', '/api/exchange/seals')).status).toBe(403); // nor reads ours

    await changeApproved({ status: 'active' }, platformId);
    expect((await verify(signed)).body.signatures[0].indication).toBe('TOTAL-PASSED');
    serial.legal = readSerial('legal');
    expect(await ofdrw.run('make-crl', file('zj'), file('r2.crl'), `${serial.revoked},${serial.legal}`)).toMatchObject({ ok: true, revoked: 2 });
    crl = await readFile(file('r2.crl'));
    await refreshCrlsBySchedule([serial.legal]);
    const revoked = (await verify(signed)).body.signatures[0];
    expect(revoked).toMatchObject({ indication: 'INDETERMINATE', sub_indication: 'REVOKED_NO_POE', certificate_status: { now: 'revoked' }, platform: { code: 'ZJ-ESEAL' } });
  });

  it('I2: our seals and their status are offered to other platforms in the exchange format; ofdrw reads the SESeal', async () => {
    // The SESeal is made at production (issue 13), so that is what is offered, the same one the holder downloads.
    const staff = await createUser(app.db, 'holder', { holder_id: ours.holderId });
    const download = await fetch(`${app.url}/api/seals/${ours.sealId}/national-seal`, { headers: { authorization: `Bearer ${staff.token}` } });
    expect(download.status).toBe(200);
    const downloaded = Buffer.from(await download.arrayBuffer());
    const res = await api(app.url, exchange.token, 'GET', '/api/exchange/seals');
    expect(res.status).toBe(200);
    const mine = res.body.seals.find((s: any) => s.es_id === ours.view.seal.seal_code);
    expect(mine).toMatchObject({ format: 'ses_v4', status: 'active', seal_kind: 'legal_name', holder: { uscc: ours.uscc }, imprint: null });
    expect(Buffer.from(mine.seal, 'base64').equals(downloaded)).toBe(true);
    await writeFile(file('ours.esl'), Buffer.from(mine.seal, 'base64'));
    expect(await ofdrw.run('seal', file('ours.esl'))).toMatchObject({ ok: true, esId: ours.view.seal.seal_code });
    expect((await api(app.url, officerHaidian.token, 'GET', '/api/exchange/seals')).status).toBe(403);
  });

  it('I2: PAdES and CMS signatures by another platform\'s filed X.509 seals (ECDSA, RSA) are recognised naming the platform, their status from its CRL and OCSP; TOTAL-FAILED when revoked before signing, INDETERMINATE when no status can be had; not recognised while suspended or when not listed', async () => {
    const p = await propose(supA.token, { code: 'TJ-ESEAL', name: '天津市电子印章平台', status: 'active', root_certificates: [tj.rootDer.toString('base64')], crl_url: tjUrls.crl, ocsp_url: tjUrls.ocsp });
    expect(p.status).toBe(202);
    expect((await decide(supB.token, p.body.change_id, 'approve')).body).toMatchObject({ status: 'approved' });
    const tjId = p.body.platform_id;
    const tjExchange = { token: await clientAccessToken(app.url, tokenEndpoint(app.config), await newClient(app.url, supA.token, { name: '天津市电子印章平台（数据交换）', tier: 'platform', platform_code: 'TJ-ESEAL' })) };
    const uscc = makeUscc('110108');
    const holder = '天津互认示范有限公司';
    const imprint = renderImprint({ holderName: holder, sealKind: 'legal_name', sealCode: '1201010000001' }).png;
    const kinds: Record<string, [string, string?]> = { legal: ['legal_name'], contract: ['business_contract', '1'], revokedCrl: ['business_contract', '2'], revokedOcsp: ['business_contract', '3'], quiet: ['business_contract', '4'] };
    for (const [name, [kind, number]] of Object.entries(kinds)) {
      const form = new FormData();
      for (const [k, v] of Object.entries({ holder_uscc: uscc, holder_name: holder, seal_kind: kind, district_code: '110108', ...(number ? { seal_number: number } : {}) })) form.set(k, v);
      form.set('certificate', new Blob([tjSeals[name].certPem], { type: 'application/x-pem-file' }), `${name}.pem`);
      form.set('imprint', new Blob([imprint], { type: 'image/png' }), 'imprint.png');
      const res = await fetch(`${app.url}/api/exchange/filings`, { method: 'POST', headers: { authorization: `Bearer ${tjExchange.token}` }, body: form });
      expect([name, res.status]).toEqual([name, 201]);
      expect(await res.json()).toMatchObject({ platform: { code: 'TJ-ESEAL' }, format: 'x509', seal_kind: kind });
    }
    const pdf = (seal: OpensslSeal, at?: Date) => foreignPdf(seal, at).then((b): Record<string, [Buffer, string, string]> => ({ file: [b, '合同.pdf', 'application/pdf'] }));
    const doc = Buffer.from('天津市平台签发的合同正文');
    await writeFile(file('tj/doc.txt'), doc);
    const cms = (seal: OpensslSeal) => tj.signCms(seal, file('tj/doc.txt')).then((p7s): Record<string, [Buffer, string, string]> => ({ file: [doc, '合同.txt', 'text/plain'], signature: [p7s, '合同.txt.p7s', 'application/pkcs7-signature'] }));
    const tjPlatform = { code: 'TJ-ESEAL', name: '天津市电子印章平台', status: 'active' };
    const text = (r: any) => r.messages.map((m: any) => m.en).join(' ');

    // PAdES by an ECDSA seal, its status from the platform's OCSP answer (its certificate names the responder).
    const legalPdf = await pdf(tjSeals.legal);
    const padesOk = await verifyParts(legalPdf);
    expect(padesOk).toMatchObject({ indication: 'TOTAL-PASSED', signature_format: 'PAdES-BASELINE-B', platform: tjPlatform, seal: { kind: 'legal_name', holder: { uscc, name: holder } }, checks: { chain: true }, certificate_status: { now: 'good' } });
    expect(padesOk.chain.map((c: any) => c.role)).toEqual(['signer', 'root']);
    expect(text(padesOk)).toContain("platform's OCSP answer");
    // The public page says so too, with the imprint the platform filed.
    const page = await fetch(`${app.url}/verify`);
    const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const form = new FormData();
    form.set('_csrf', (await page.text()).match(/name="_csrf" value="([^"]+)"/)![1]);
    form.set('file', new Blob([legalPdf.file[0]], { type: 'application/pdf' }), '合同.pdf');
    const html = await (await fetch(`${app.url}/verify`, { method: 'POST', headers: { cookie }, body: form })).text();
    expect(html).toContain('天津市电子印章平台 (TJ-ESEAL)');
    expect(html).toContain(`src="data:image/png;base64,${imprint.toString('base64').slice(0, 200)}`);
    // CMS (.p7s) by an RSA seal, made by openssl cms; the same signature over another file fails.
    const contractCms = await cms(tjSeals.contract);
    expect(await verifyParts(contractCms)).toMatchObject({ indication: 'TOTAL-PASSED', signature_format: 'CAdES-BASELINE-B', platform: tjPlatform, seal: { kind: 'business_contract' }, certificate_status: { now: 'good' } });
    expect(await verifyParts({ ...contractCms, file: [Buffer.from('改过的合同'), '合同.txt', 'text/plain'] })).toMatchObject({ indication: 'TOTAL-FAILED', sub_indication: 'HASH_FAILURE', platform: { code: 'TJ-ESEAL' } });
    // A platform no one listed: not recognised.
    const strangerReport = await verifyParts({ ...contractCms, signature: [await tj.signCms(strangerSeal, file('tj/doc.txt')), 'x.p7s', 'application/pkcs7-signature'] });
    expect(strangerReport).toMatchObject({ indication: 'INDETERMINATE', sub_indication: 'NO_CERTIFICATE_CHAIN_FOUND', seal: null, chain: [] });
    expect(strangerReport.platform).toBeUndefined();

    // Revoked in the platform's CRL (fetched again by the Schedule), then signed: TOTAL-FAILED.
    await tj.revoke(tjSeals.revokedCrl);
    tjCrl = await tj.crl();
    await refreshCrlsBySchedule([readCertificateSerial(tjSeals.revokedCrl.certDer)], tjId);
    // Its claimed signing time: the next whole second, so the claim is after the revocation (whole seconds in the index).
    const nextSecond = () => new Date(Math.floor(Date.now() / 1000) * 1000 + 1000);
    const afterCrl = await verifyParts(await pdf(tjSeals.revokedCrl, nextSecond()));
    expect(afterCrl).toMatchObject({ indication: 'TOTAL-FAILED', sub_indication: 'REVOKED', platform: { code: 'TJ-ESEAL' }, certificate_status: { at_signing_time: 'revoked', now: 'revoked', revoked_at: expect.any(String) } });
    expect(text(afterCrl)).toContain('(CRL of');
    // Revoked in the responder's index only (the cached CRL does not say so yet): the OCSP answer does.
    await tj.revoke(tjSeals.revokedOcsp);
    const afterOcsp = await verifyParts(await pdf(tjSeals.revokedOcsp, nextSecond()));
    expect(afterOcsp).toMatchObject({ indication: 'TOTAL-FAILED', sub_indication: 'REVOKED', platform: { code: 'TJ-ESEAL' }, certificate_status: { now: 'revoked' } });
    expect(text(afterOcsp)).toContain('(OCSP answer of');

    // Suspended: not recognised, the platform and its status named.
    await changeApproved({ status: 'suspended' }, tjId);
    expect(await verifyParts(legalPdf)).toMatchObject({ indication: 'INDETERMINATE', sub_indication: 'NO_CERTIFICATE_CHAIN_FOUND', platform: { code: 'TJ-ESEAL', status: 'suspended' } });
    // Active again without a CRL, its responder down: the status cannot be had, then it can.
    await changeApproved({ status: 'active', crl_url: null }, tjId);
    tjOcspDown = true;
    const quietCms = await cms(tjSeals.quiet);
    expect(await verifyParts(quietCms)).toMatchObject({ indication: 'INDETERMINATE', sub_indication: 'TRY_LATER', platform: { code: 'TJ-ESEAL' }, certificate_status: { now: 'unknown' } });
    tjOcspDown = false;
    expect(await verifyParts(quietCms)).toMatchObject({ indication: 'TOTAL-PASSED', platform: { code: 'TJ-ESEAL' }, certificate_status: { now: 'good' } });
  });
});

function readCertificateSerial(der: Buffer): string {
  return new X509Certificate(der).serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
}

/** The holder certificate's serial (hex) ofdrw wrote for a seal. */
function readSerial(seal: string): string {
  return new X509Certificate(readFileSync(file(`${seal}/user.cer`))).serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
}
