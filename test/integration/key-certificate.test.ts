// The certificates of the platform's own HSM keys (platform signing, OCSP responder, audit heads), made by
// one ensureKeyCertificate(): issued once, reused while valid, re-issued when they no longer fit. Real
// SoftHSM2 token in a temp data dir; openssl checks the chain and the extensions.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Hsm } from '../../infra/hsm/hsm';
import { ensureSoftHsmToken, setSoftHsmConf } from '../../infra/hsm/softhsm-token';
import { ensurePlatformCa, type PlatformCa } from '../../infra/pki/ca';
import { ensureOcspResponderCertificate } from '../../infra/pki/ocsp-responder';
import { ensureAuditSigningCertificate } from '../../infra/audit/heads';
import { afterDays, ensureKeyCertificate } from '../../infra/pki/key-certificate';
import { ensurePlatformSigningCertificate } from '../../infra/pki/platform';
import * as x509 from '../../infra/pki/x509';

const run = promisify(execFile);
const TOKEN = 'eseal-keycert-test';
const PIN = '12345678';
const DAY = 86_400_000;
const openssl = async (...args: string[]) => (await run('openssl', args)).stdout;

let dataDir: string;
let hsm: Hsm;
let ca: PlatformCa;
let previousConf: string | undefined;
const pki = (f: string) => path.join(dataDir, 'pki', f);

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'eseal-keycert-test-'));
  previousConf = setSoftHsmConf(undefined);
  const { modulePath } = await ensureSoftHsmToken({ dataDir, label: TOKEN, soPin: '87654321', userPin: PIN });
  hsm = await Hsm.open({ modulePath, tokenLabel: TOKEN, pin: PIN });
  ca = await ensurePlatformCa(hsm, { dataDir });
}, 60_000);
afterAll(async () => {
  await hsm?.close();
  setSoftHsmConf(previousConf);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const spec = (over: Partial<Parameters<typeof ensureKeyCertificate>[1]> = {}) => ({
  keyLabel: 'eseal-test-signing',
  file: pki('test-signing.pem'),
  issuingDer: ca.issuingDer,
  commonName: '测试签名',
  notAfter: afterDays(100),
  renewBeforeDays: 10,
  keyUsages: x509.KeyUsageFlags.digitalSignature,
  ...over,
});

test('a key certificate is issued once under the issuing CA, for the HSM key, and reused while it fits', async () => {
  const first = await ensureKeyCertificate(hsm, spec());
  expect(first.created).toBe(true);
  expect(await openssl('verify', '-CAfile', pki('root-ca.pem'), '-untrusted', pki('issuing-ca.pem'), first.path)).toContain(': OK');
  expect(Buffer.from(first.certificate.publicKey.rawData).equals(await hsm.publicKeySpki('eseal-test-signing'))).toBe(true);
  const text = await openssl('x509', '-in', first.path, '-noout', '-text', '-nameopt', 'utf8');
  expect(text).toContain('CN=测试签名');
  expect(text).toMatch(/X509v3 Key Usage: critical\s*\n\s*Digital Signature\s*\n/);
  expect(text).toMatch(/CA:FALSE/);

  const again = await ensureKeyCertificate(hsm, spec());
  expect(again.created).toBe(false);
  expect(again.certificate.serialNumber).toBe(first.certificate.serialNumber);
  // Within renewBeforeDays of its end, it is re-issued.
  const late = await ensureKeyCertificate(hsm, spec({ now: new Date(first.certificate.notAfter.getTime() - 9 * DAY) }));
  expect(late.created).toBe(true);
  // A file that certifies another key (or was damaged) is replaced too.
  await writeFile(pki('test-signing.pem'), await readFile(pki('issuing-ca.pem')));
  expect((await ensureKeyCertificate(hsm, spec())).created).toBe(true);
});

test('the OCSP responder and the audit head certificates come from it, each with its own extensions; an extra condition can refuse a file', async () => {
  const responder = await ensureOcspResponderCertificate(hsm, { dataDir, issuingDer: ca.issuingDer });
  expect(responder.created).toBe(true);
  const text = await openssl('x509', '-in', responder.path, '-noout', '-text');
  expect(text).toMatch(/X509v3 Extended Key Usage:\s*\n\s*OCSP Signing\s*\n/);
  expect(text).toMatch(/OCSP No Check/);
  expect((await ensureOcspResponderCertificate(hsm, { dataDir, issuingDer: ca.issuingDer })).created).toBe(false);
  // A certificate of the responder key without OCSP signing is not reused as the responder's.
  expect((await ensureKeyCertificate(hsm, spec({ keyLabel: responder.keyLabel, file: responder.path, accept: () => false }))).created).toBe(true);
  expect((await ensureOcspResponderCertificate(hsm, { dataDir, issuingDer: ca.issuingDer })).created).toBe(true);

  const audit = await ensureAuditSigningCertificate(hsm, dataDir);
  expect(audit.created).toBe(true);
  expect(await openssl('x509', '-in', audit.path, '-noout', '-text')).toMatch(/X509v3 Key Usage: critical\s*\n\s*Digital Signature, Non Repudiation\s*\n/);
  expect((await ensureAuditSigningCertificate(hsm, dataDir)).created).toBe(false);
});

test('the platform signing certificate is re-issued at start-up once 30 days or less remain, not reused until it expires', async () => {
  const first = await ensurePlatformSigningCertificate(hsm, { dataDir, issuingDer: ca.issuingDer });
  expect(first.created).toBe(true);
  expect(await openssl('x509', '-in', first.path, '-noout', '-text')).toMatch(/X509v3 Key Usage: critical\s*\n\s*Digital Signature, Non Repudiation\s*\n/);
  const end = first.certificate.notAfter.getTime();
  expect((await ensurePlatformSigningCertificate(hsm, { dataDir, issuingDer: ca.issuingDer, now: new Date(end - 31 * DAY) })).created).toBe(false);
  const renewed = await ensurePlatformSigningCertificate(hsm, { dataDir, issuingDer: ca.issuingDer, now: new Date(end - 29 * DAY) });
  expect(renewed.created).toBe(true);
  expect(renewed.certificate.serialNumber).not.toBe(first.certificate.serialNumber);
  expect(Buffer.from(renewed.certificate.publicKey.rawData).equals(Buffer.from(first.certificate.publicKey.rawData))).toBe(true);
});
