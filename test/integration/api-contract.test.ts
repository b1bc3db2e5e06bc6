// P2 (issue 16 points 3 and 5): requests are checked against web/openapi.yaml before anything acts on them —
// a wrong JSON type is refused naming the field in Chinese and English, nothing is stored — and each seal's
// certificate and chain are served to relying parties without a login, checked with openssl.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc, PNG_BYTES } from '../helpers/fixtures';
import { collectedSeal } from '../helpers/journeys';

const run = promisify(execFile);
let app: RunningApp;
let maker: { id: string; token: string };
let officer: { id: string; token: string };

beforeAll(async () => {
  app = await startApp();
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
});
afterAll(async () => {
  await app?.stop();
});

const application = (hasSuperior: unknown) => {
  const uscc = makeUscc('110105');
  return {
    uscc,
    body: {
      holder: { uscc, name: `北京契约${uscc.slice(-5)}有限公司`, kind: 'enterprise', address: '北京市朝阳区光华路1号', district: '110105', legal_representative: '张三', has_superior: hasSuperior },
      seal: { kind: 'legal_name', language: 'zh' },
      handler: { name: '李四', id_number: makeResidentId(), phone: '13800138000' },
    },
  };
};

describe('P2: requests are checked against web/openapi.yaml', () => {
  it('P2: has_superior "yes" is refused (400) naming holder.has_superior in Chinese and English; no case or holder is stored', async () => {
    const { uscc, body } = application('yes');
    const res = await api(app.url, maker.token, 'POST', '/api/applications', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_input');
    expect(res.body.error.fields).toEqual([{ field: 'holder.has_superior', message_zh: expect.stringContaining('应为布尔值'), message_en: expect.stringContaining('must be a boolean') }]);
    expect(res.body.error.message_zh).toContain('holder.has_superior');
    expect(res.body.error.message_en).toContain('holder.has_superior');
    expect(await app.db('holders').where({ uscc })).toHaveLength(0);
    // The same with a boolean goes through, so the refusal was the type and nothing else.
    const ok = application(false);
    expect((await api(app.url, maker.token, 'POST', '/api/applications', ok.body)).status).toBe(201);
  });

  it('P2: every wrong type of a body is named at once (a number for a string, a string for an object)', async () => {
    const { body } = application(true);
    const res = await api(app.url, maker.token, 'POST', '/api/applications', { ...body, seal: 'legal_name', handler: { ...body.handler, phone: 13800138000 } });
    expect(res.status).toBe(400);
    expect(res.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['handler.phone', 'seal']);
  });

  it('P2: query parameters are checked (type, range, undescribed names); headers that are not described pass', async () => {
    const bad = await api(app.url, officer.token, 'GET', '/api/tasks?limit=abc');
    expect(bad.status).toBe(400);
    const unknown = await api(app.url, officer.token, 'GET', '/api/applications?stauts=ready');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.fields).toEqual([expect.objectContaining({ field: 'stauts', message_zh: expect.stringContaining('查询参数') })]);
    const wrongEnum = await api(app.url, officer.token, 'GET', '/api/applications?status=nonsense');
    expect(wrongEnum.status).toBe(400);
    expect(wrongEnum.body.error.fields[0].field).toBe('status');
    const withHeader = await api(app.url, officer.token, 'GET', '/api/applications?status=ready', undefined, { 'x-undescribed-header': 'anything' });
    expect(withHeader.status).toBe(200);
    // A method the description does not have is still the router's plain 404, not a validator error.
    const noSuchMethod = await api(app.url, officer.token, 'DELETE', '/api/applications');
    expect(noSuchMethod.status).toBe(404);
    expect(noSuchMethod.body.error.code).toBe('not_found');
  });

  it('P2: a multipart upload is checked against its form once its fields are read (the file streamed to disk); an unknown material kind is refused and nothing is stored', async () => {
    const { body } = application(false);
    const created = await api(app.url, maker.token, 'POST', '/api/applications', body);
    expect(created.status).toBe(201);
    const form = new FormData();
    form.append('kind', 'not_a_kind');
    form.append('file', new Blob([PNG_BYTES], { type: 'image/png' }), 'x.png');
    const res = await fetch(`${app.url}/api/applications/${created.body.id}/materials`, { method: 'POST', headers: { authorization: `Bearer ${maker.token}` }, body: form });
    const json = (await res.json()) as { error: { fields: Array<{ field: string; message_zh: string; message_en: string }> } };
    expect(res.status).toBe(400);
    expect(json.error.fields).toEqual([expect.objectContaining({ field: 'kind', message_zh: expect.stringContaining('应为以下值之一'), message_en: expect.stringContaining('must be equal to one of the allowed values') })]);
    expect(await app.db('materials').where({ case_id: created.body.id })).toHaveLength(0);
  });
});

describe("Issue 16 point 5: a seal's certificate and chain for relying parties", () => {
  it('U1 M13: the certificate (PEM, DER) and the chain are served without a login, are the seal\'s own, and openssl verifies the chain to the root', async () => {
    const seal = await collectedSeal(app, maker, officer);
    const row = await app.db('seals').where({ id: seal.sealId }).first('certificate_der', 'certificate_serial');
    const base = `${app.url}/pki/seals/${seal.sealId}`;
    const der = await fetch(`${base}/certificate.der`);
    expect(der.status).toBe(200);
    expect(der.headers.get('content-type')).toBe('application/pkix-cert');
    expect(Buffer.from(await der.arrayBuffer()).equals(Buffer.from(row.certificate_der))).toBe(true);

    const pem = await fetch(`${base}/certificate.pem`);
    expect(pem.status).toBe(200);
    const pemText = await pem.text();
    const chain = await fetch(`${base}/chain.pem`);
    expect(chain.status).toBe(200);
    const chainText = await chain.text();
    expect(chainText.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(3);
    expect(chainText.startsWith(pemText)).toBe(true);

    const dir = mkdtempSync(path.join(tmpdir(), 'seal-cert-'));
    const rootPem = await (await fetch(`${app.url}/pki/root-ca.pem`)).text();
    writeFileSync(path.join(dir, 'root.pem'), rootPem);
    writeFileSync(path.join(dir, 'chain.pem'), chainText);
    writeFileSync(path.join(dir, 'seal.pem'), pemText);
    const serial = await run('openssl', ['x509', '-in', path.join(dir, 'seal.pem'), '-noout', '-serial']);
    expect(serial.stdout.trim().toLowerCase()).toBe(`serial=${String(row.certificate_serial).toLowerCase()}`);
    const verified = await run('openssl', ['verify', '-CAfile', path.join(dir, 'root.pem'), '-untrusted', path.join(dir, 'chain.pem'), path.join(dir, 'seal.pem')]);
    expect(verified.stdout).toContain(': OK');

    // The seal's views link to them: the API's seal view and the holder's pages.
    const view = await api(app.url, maker.token, 'GET', `/api/seals/${seal.sealId}`);
    expect(view.body.certificate_links).toEqual({ pem: `/pki/seals/${seal.sealId}/certificate.pem`, der: `/pki/seals/${seal.sealId}/certificate.der`, chain: `/pki/seals/${seal.sealId}/chain.pem` });
  });

  it('an unknown seal, or an identifier out of format, is 404 in Chinese and English', async () => {
    const unknown = await api(app.url, null, 'GET', '/pki/seals/00000000-0000-4000-8000-000000000000/certificate.pem');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'not_found', message_zh: expect.stringContaining('证书'), message_en: expect.stringContaining('certificate') });
    expect((await api(app.url, null, 'GET', '/pki/seals/not-a-uuid/chain.pem')).status).toBe(404);
  });
});
