// Issue 13 (M4, M13, U1): the SM2 chain beside the ECDSA one and the seal data made at production, judged as
// a relying party would with OpenSSL 3 (SM2/SM3): the seal's SESeal exists as soon as it is produced (before
// any OFD use) and the holder downloads it; its SM2 certificate and the seal maker's chain to the SM2 root
// (`openssl verify -vfyopt distid:1234567812345678`, link by link: OpenSSL 3.0
// sets the ID only on the certificates named on its command line); suspending the seal lists its SM2 certificate on the SM2
// CRL (`openssl crl -text`) and the SM2 OCSP responder answers revoked (`openssl ocsp`), as for its ECDSA one.
// OpenSSL 3.0's `crl -verify` and `ocsp` verify SM2 with an empty distinguishing ID and take no option to set
// it (GM/T 0015 signs with 1234567812345678), so the CRL's and the OCSP answer's signatures are checked by
// `openssl dgst -sm3 -sigopt distid:1234567812345678` over their TBS bytes. Each SM2 CA key is usable only
// with its own role's token: the root key with none a running process holds.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, PDF_BYTES } from '../helpers/fixtures';
import { collectedSeal } from '../helpers/journeys';
import { eventually } from '../helpers/wait';
import { readSeal } from '../../infra/gm/ses';
import { loadSm2CaKey } from '../../infra/gm/sm2-ca';
import { certificateSerialHex } from '../../infra/gm/sm2-certificates';
import { Sm2Module } from '../../infra/hsm/sm2-module';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import { BasicOCSPResponse, OCSPResponse } from '@peculiar/asn1-ocsp';

const run = promisify(execFile);
let app: RunningApp;
let maker: { id: string; token: string };
let officer: { id: string; token: string };
let dir: string;

beforeAll(async () => {
  app = await startApp({ taskQueueSuffix: '-sm2', pkiAtWebUrl: true });
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
  dir = mkdtempSync(path.join(tmpdir(), 'rp-sm2-'));
});
afterAll(async () => {
  await app?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Asynchronously: the OCSP responder is this very process, so a blocking call would wait for itself.
const openssl = async (...args: string[]) => {
  const r = await run('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 20_000 }).catch((e: { stdout: string; stderr: string }) => e);
  return `${r.stdout}${r.stderr}`;
};
const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
const fetchBytes = async (url: string) => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
};

const DISTID = 'distid:1234567812345678';
/** `openssl dgst -sm3` with the GM/T default ID: does `signerPem`'s key sign `tbs` with `signature`? */
async function opensslSm2Verify(tbs: ArrayBuffer, signature: ArrayBuffer, signerPem: string): Promise<string> {
  writeFileSync(path.join(dir, 'tbs.der'), Buffer.from(tbs));
  writeFileSync(path.join(dir, 'sig.der'), Buffer.from(signature));
  await openssl('x509', '-in', signerPem, '-pubkey', '-noout', '-out', 'signer-pub.pem');
  return (await openssl('dgst', '-sm3', '-verify', 'signer-pub.pem', '-sigopt', DISTID, '-signature', 'sig.der', 'tbs.der')).trim();
}

test('issue 13 M4 M13 U1: the SESeal is made at production, its SM2 certificate chains to the SM2 root in openssl, and a suspension shows on the SM2 CRL and in SM2 OCSP', async () => {
  const s = await collectedSeal(app, maker, officer);
  // Made by production itself: no OFD was signed and nothing was downloaded yet.
  const made = await app.db('seal_national').where({ seal_id: s.sealId }).first('seal_der', 'certificate_der', 'certificate_serial');
  expect(made).toBeDefined();

  // The holder's staff download it through the API: the seal code, imprint and the maker's valid signature.
  const staff = await createUser(app.db, 'holder', { holder_id: s.holderId });
  const res = await fetch(`${app.url}/api/seals/${s.sealId}/national-seal`, { headers: { authorization: `Bearer ${staff.token}` } });
  expect(res.status).toBe(200);
  const der = Buffer.from(await res.arrayBuffer());
  expect(der.equals(made.seal_der)).toBe(true);
  const seal = readSeal(der);
  expect(seal).toMatchObject({ version: 4, esId: s.view.seal.seal_code, makerSignatureValid: true, picture: { type: 'PNG', widthMm: 42 } });
  expect(seal.signerCertificates).toHaveLength(1);
  expect(certificateSerialHex(seal.signerCertificates[0])).toBe(made.certificate_serial);

  // openssl: the SM2 root and issuing CA from the public routes; the seal's and the maker's certificates chain to them.
  writeFileSync(path.join(dir, 'root.pem'), await fetchBytes(`${app.url}/pki/sm2/root-ca.pem`));
  writeFileSync(path.join(dir, 'issuing.pem'), await fetchBytes(`${app.url}/pki/sm2/issuing-ca.pem`));
  writeFileSync(path.join(dir, 'seal.pem'), pem(seal.signerCertificates[0]));
  writeFileSync(path.join(dir, 'maker.pem'), pem(seal.makerCertificate));
  const text = await openssl('x509', '-in', 'seal.pem', '-noout', '-text');
  expect(text).toContain('Signature Algorithm: SM2-with-SM3');
  expect(text).toContain(`URI:${app.url}/pki/sm2/crl.der`);
  expect(text).toContain(`OCSP - URI:${app.url}/pki/sm2/ocsp`);
  expect((await openssl('x509', '-in', 'root.pem', '-noout', '-text'))).toContain('Signature Algorithm: SM2-with-SM3');
  // OpenSSL 3.0 applies -vfyopt to the certificates named on the command line only: each link is checked as one.
  expect((await openssl('verify', '-vfyopt', DISTID, '-CAfile', 'root.pem', 'issuing.pem')).trim()).toBe('issuing.pem: OK');
  expect((await openssl('verify', '-vfyopt', DISTID, '-partial_chain', '-CAfile', 'issuing.pem', 'seal.pem', 'maker.pem')).trim()).toBe('seal.pem: OK\nmaker.pem: OK');
  // A certificate not signed with the standard ID fails: the check can fail.
  expect(await openssl('verify', '-partial_chain', '-CAfile', 'issuing.pem', 'seal.pem')).toContain('certificate signature failure');
  /** openssl ocsp's answer, and its SM2 signature checked with the responder certificate it carries. */
  const ocsp = async () => {
    const out = await openssl('ocsp', '-issuer', 'issuing.pem', '-cert', 'seal.pem', '-url', `${app.url}/pki/sm2/ocsp`, '-noverify', '-resp_text', '-respout', 'resp.der');
    const response = AsnConvert.parse(readFileSync(path.join(dir, 'resp.der')), OCSPResponse);
    const basic = AsnConvert.parse(response.responseBytes!.response.buffer, BasicOCSPResponse);
    writeFileSync(path.join(dir, 'responder.pem'), pem(Buffer.from(AsnConvert.serialize(basic.certs![0]))));
    expect((await openssl('verify', '-vfyopt', DISTID, '-partial_chain', '-CAfile', 'issuing.pem', 'responder.pem')).trim()).toBe('responder.pem: OK');
    expect(await opensslSm2Verify(basic.tbsResponseDataRaw!, basic.signature, 'responder.pem')).toBe('Verified OK');
    return out;
  };
  const good = await ocsp();
  expect(good).toMatch(/seal\.pem: good/);
  expect(good).toContain('Signature Algorithm: SM2-with-SM3');

  // The seal is suspended through the lifecycle API: both its certificates are held, the SM2 one on the SM2 CRL.
  const form = new FormData();
  for (const [k, v] of Object.entries({ kind: 'suspend', legal_rep_id_number: makeResidentId(), handler_name: '冯十二', handler_id_number: makeResidentId(), handler_phone: '13600136000' })) form.set(k, v);
  form.set('authorisation_letter', new Blob([PDF_BYTES]), 'letter.pdf');
  expect((await fetch(`${app.url}/api/seals/${s.sealId}/changes`, { method: 'POST', headers: { authorization: `Bearer ${maker.token}` }, body: form })).status).toBe(201);
  const crlText = await eventually(
    'the SM2 CRL listing the seal',
    async () => {
      writeFileSync(path.join(dir, 'crl.der'), await fetchBytes(`${app.url}/pki/sm2/crl.der`));
      return openssl('crl', '-inform', 'DER', '-in', 'crl.der', '-noout', '-text');
    },
    (t) => t.toUpperCase().includes(made.certificate_serial.toUpperCase()),
  );
  expect(crlText).toContain('Signature Algorithm: SM2-with-SM3');
  expect(crlText).toContain('Certificate Hold');
  const crl = AsnConvert.parse(readFileSync(path.join(dir, 'crl.der')), CertificateList);
  expect(await opensslSm2Verify(crl.tbsCertListRaw!, crl.signature, 'issuing.pem')).toBe('Verified OK');
  const revoked = await ocsp();
  expect(revoked).toMatch(/seal\.pem: revoked/);
  expect(revoked).toMatch(/Reason: certificateHold/);
  // A seal has one status: the ECDSA certificate is held too.
  expect((await api(app.url, staff.token, 'GET', `/api/seals/${s.sealId}`)).body).toMatchObject({ status: 'suspended' });
});

test('issue 13 M4: each SM2 CA key is usable only with its role\'s token: the root key with neither token a running process holds, the issuing CA key not with the web\'s', async () => {
  const [root, issuing, responder] = await Promise.all([loadSm2CaKey(app.db, 'root'), loadSm2CaKey(app.db, 'issuing'), loadSm2CaKey(app.db, 'ocsp_responder')]);
  const data = Buffer.from('不可签');
  for (const hsm of [app.issuingHsm, app.hsm]) await expect(new Sm2Module(hsm).sign(root!.key, data)).rejects.toThrow();
  await expect(new Sm2Module(app.hsm).sign(issuing!.key, data)).rejects.toThrow();
  await expect(new Sm2Module(app.issuingHsm).sign(responder!.key, data)).rejects.toThrow();
  // Each with its own: the web signs with the responder key, the HSM worker's token with the issuing CA key.
  await expect(new Sm2Module(app.hsm).sign(responder!.key, data)).resolves.toBeInstanceOf(Buffer);
  await expect(new Sm2Module(app.issuingHsm).sign(issuing!.key, data)).resolves.toBeInstanceOf(Buffer);
});
