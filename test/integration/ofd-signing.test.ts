// OFD documents signed with seals in the national format (issue 13: U1, U2, I2) through the JSON API on the
// real services: the keeper signs with format=ofd; ofdrw's OFDValidator (with the seal maker's signature,
// which ofdrw does not check) accepts the result; the public verification service reports it, and reads an
// OFD signed by another system (ofdrw's own signer and SM2 seal). One JVM for the file.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc } from '../helpers/fixtures';
import { collectedSeal } from '../helpers/journeys';
import { OfdrwChecker } from '../helpers/ofdrw-checker';
import { minimalOfd } from '../helpers/ofd';
import { renderImprint } from '../../infra/imprint';

let app: RunningApp;
let ofdrw: OfdrwChecker;
let dir: string;
let maker: { id: string; token: string };
let officer: { id: string; token: string };
const GOOD = 'Tiger#Lake2049x';
const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  [app, ofdrw] = await Promise.all([startApp(), OfdrwChecker.start()]);
  dir = await mkdtemp(path.join(os.tmpdir(), 'eseal-ofd-'));
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
});
afterAll(async () => {
  ofdrw?.stop();
  await app?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function keptSeal() {
  const seal = await collectedSeal(app, maker, officer);
  const staff = await createUser(app.db, 'holder', { holder_id: seal.holderId });
  const keeperId = makeResidentId('19880101');
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/keepers`, { name: '孙保管', id_number: keeperId })).status).toBe(201);
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/password`, { id_number: keeperId, password: GOOD })).status).toBe(201);
  return { ...seal, staff, keeperId };
}

async function signOfd(token: string, sealId: string, fields: Record<string, string>, doc: Buffer) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('file', new Blob([doc]), '通知.ofd');
  const res = await fetch(`${app.url}/api/seals/${sealId}/signatures`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, body: (res.headers.get('content-type') ?? '').startsWith('application/json') ? JSON.parse(bytes.toString('utf8')) : null };
}

async function verify(doc: Buffer) {
  const form = new FormData();
  form.set('file', new Blob([doc]), '通知.ofd');
  const res = await fetch(`${app.url}/api/verifications`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as any };
}

describe('OFD signatures with seals in the national format', () => {
  let s: Awaited<ReturnType<typeof keptSeal>>;
  let signed: Buffer;

  beforeAll(async () => {
    s = await keptSeal();
  });

  it('U1: a keeper signs an OFD (format=ofd); ofdrw validates it, including the seal maker\'s signature; the use register has it; the holder downloads the seal data', async () => {
    const fields = { id_number: s.keeperId, password: GOOD, purpose: '印发通知', document_type: 'official_document', format: 'ofd', page: '1', x: '150', y: '230' };
    const res = await signOfd(s.staff.token, s.sealId, fields, minimalOfd('关于印发电子印章管理办法的通知'));
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/ofd');
    signed = res.bytes;
    await writeFile(file('signed.ofd'), signed);
    expect(await ofdrw.run('verify-ofd', file('signed.ofd'))).toMatchObject({ ok: true, ofdrw: 'valid', signatures: 1, sealMakerSignaturesValid: true });
    // The seal in the package is the seal's SESeal: its code and imprint, and the register entry names the signature.xml hash.
    const files = unzipSync(new Uint8Array(signed));
    await writeFile(file('seal.esl'), files['Doc_0/Signs/Sign_0/Seal.esl']);
    const seal = await ofdrw.run('seal', file('seal.esl'));
    expect(seal).toMatchObject({ ok: true, esId: s.view.seal.seal_code, pictureType: 'PNG', widthMm: 42 });
    // The holder's staff download the same seal data; another holder's staff may not.
    const download = await fetch(`${app.url}/api/seals/${s.sealId}/national-seal`, { headers: { authorization: `Bearer ${s.staff.token}` } });
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(files['Doc_0/Signs/Sign_0/Seal.esl']))).toBe(true);
    const otherHolder = randomUUID();
    await app.db('holders').insert({ id: otherHolder, uscc: makeUscc('110105'), name: '北京范围外有限公司', kind: 'enterprise', district_code: '110105', address: '北京市朝阳区1号' });
    const outsider = await createUser(app.db, 'holder', { holder_id: otherHolder });
    expect((await fetch(`${app.url}/api/seals/${s.sealId}/national-seal`, { headers: { authorization: `Bearer ${outsider.token}` } })).status).toBe(403);
    const xmlSha = createHash('sha256').update(files['Doc_0/Signs/Sign_0/Signature.xml']).digest('hex');
    expect(res.headers.get('x-document-sha256')).toBe(xmlSha);
    const entry = (await api(app.url, s.staff.token, 'GET', `/api/use-register?seal_id=${s.sealId}&format=ofd`)).body.entries[0];
    expect(entry).toMatchObject({ id: res.headers.get('x-seal-use-id'), format: 'ofd', document_sha256: xmlSha, purpose: '印发通知' });

    // A second signature by the same seal keeps the first one valid (ofdrw checks both).
    const again = await signOfd(s.staff.token, s.sealId, { ...fields, x: '60' }, signed);
    expect(again.status).toBe(201);
    await writeFile(file('twice.ofd'), again.bytes);
    expect(await ofdrw.run('verify-ofd', file('twice.ofd'))).toMatchObject({ ok: true, signatures: 2 });
  });

  it('U1: a file that is not an OFD, or a page beyond the last, is refused naming the field in Chinese and English; nothing is recorded', async () => {
    const fields = { id_number: s.keeperId, password: GOOD, purpose: '印发通知', document_type: 'official_document', format: 'ofd' };
    const before = (await api(app.url, s.staff.token, 'GET', `/api/use-register?seal_id=${s.sealId}`)).body.entries.length;
    const notOfd = await signOfd(s.staff.token, s.sealId, fields, Buffer.from(zipSync({ 'readme.txt': new Uint8Array(Buffer.from('不是 OFD')) })));
    expect(notOfd.status).toBe(400);
    expect(notOfd.body.error).toMatchObject({ code: 'OFD_UNREADABLE', fields: [{ field: 'file' }] });
    expect(notOfd.body.error.fields[0]).toMatchObject({ message_zh: expect.stringContaining('不是 OFD 文件'), message_en: expect.stringContaining('is not an OFD file') });
    const page = await signOfd(s.staff.token, s.sealId, { ...fields, page: '3' }, minimalOfd('一页'));
    expect(page.status).toBe(400);
    expect(page.body.error.fields[0].field).toBe('page');
    expect((await api(app.url, s.staff.token, 'GET', `/api/use-register?seal_id=${s.sealId}`)).body.entries.length).toBe(before);
    // The public verification of a ZIP that is no OFD names the file too.
    const form = new FormData();
    form.set('file', new Blob([Buffer.from(zipSync({ 'a.txt': new Uint8Array([1]) }))]), 'x.ofd');
    const res = await fetch(`${app.url}/api/verifications`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatchObject({ code: 'OFD_UNREADABLE', fields: [{ field: 'file' }] });
  });

  it('U2: the public verification service reports our OFD signature TOTAL-PASSED with the seal and its register entry; a changed page TOTAL-FAILED', async () => {
    const ok = await verify(signed);
    expect(ok.status).toBe(200);
    expect(ok.body.signatures).toHaveLength(1);
    expect(ok.body.signatures[0]).toMatchObject({
      indication: 'TOTAL-PASSED',
      signature_format: 'SES-V4-OFD',
      checks: { format: true, message_digest: true, signature_value: true, signing_certificate: true, chain: true },
      covers: { kind: 'package_files', whole_document: true },
      seal: { id: s.sealId, seal_code: s.view.seal.seal_code, status_now: 'active' },
      seal_live_when_signed: true,
      certificate_status: { at_signing_time: 'good', now: 'good' },
    });
    expect(ok.body.signatures[0].use_register_id).toEqual(expect.any(String));
    assertReportSchema(ok.body);

    const files = unzipSync(new Uint8Array(signed));
    files['Doc_0/Pages/Page_0/Content.xml'] = new Uint8Array(Buffer.from(Buffer.from(files['Doc_0/Pages/Page_0/Content.xml']).toString('utf8').replace('通知', '通告')));
    const changed = await verify(Buffer.from(zipSync(files)));
    expect(changed.body.signatures[0]).toMatchObject({ indication: 'TOTAL-FAILED', sub_indication: 'HASH_FAILURE', checks: { message_digest: false } });
    expect(changed.body.signatures[0].messages.map((m: { en: string }) => m.en).join(' ')).toContain('/Doc_0/Pages/Page_0/Content.xml');
  });

  it('I2: an OFD signed by another system (ofdrw with its own SM2 seal) is read and checked by the verification service, intact but from a platform not recognised', async () => {
    await writeFile(file('other.png'), renderImprint({ holderName: '外省示范有限公司', sealKind: 'legal_name', sealCode: '3301080000009' }).png);
    expect(await ofdrw.run('make-seal', file('other'), '外省示范有限公司', file('other.png'))).toMatchObject({ ok: true });
    await writeFile(file('plain.ofd'), minimalOfd('外省系统签发的文件'));
    expect(await ofdrw.run('sign-ofd', file('other'), file('plain.ofd'), file('theirs.ofd'))).toMatchObject({ ok: true });
    const theirs = await verify(await readFile(file('theirs.ofd')));
    expect(theirs.status).toBe(200);
    expect(theirs.body.signatures[0]).toMatchObject({
      indication: 'INDETERMINATE',
      sub_indication: 'NO_CERTIFICATE_CHAIN_FOUND',
      signature_format: 'SES-V4-OFD',
      checks: { format: true, message_digest: true, signature_value: true, signing_certificate: true, chain: false },
      seal: null,
    });
    expect(theirs.body.signatures[0].messages.map((m: { en: string }) => m.en).join(' ')).toContain('Other Platform Seal Maker');
    assertReportSchema(theirs.body);
  });
});

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
