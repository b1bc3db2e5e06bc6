// Platform CA in a real SoftHSM2 token, checked with openssl; fresh temp data dir per run.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Hsm } from '../../infra/hsm/hsm';
import { ensureSoftHsmToken, setSoftHsmConf } from '../../infra/hsm/softhsm-token';
import {
  ensurePlatformCa,
  ISSUING_CA_KEY_LABEL,
  issueCertificate,
  PlatformCa,
  ROOT_CA_KEY_LABEL,
} from '../../infra/pki/ca';
import * as x509 from '../../infra/pki/x509';

const run = promisify(execFile);
const TOKEN = 'eseal-pki-test';
const PIN = '12345678';

const openssl = async (...args: string[]) => (await run('openssl', args)).stdout;
const text = (file: string) => openssl('x509', '-in', file, '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus_space');

describe('platform CA generated in the HSM', () => {
  let dataDir: string;
  let modulePath: string;
  let hsm: Hsm;
  let ca: PlatformCa;
  let previousConf: string | undefined;
  let rootFile: string;
  let issuingFile: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'eseal-pki-test-'));
    previousConf = setSoftHsmConf(undefined);
    ({ modulePath } = await ensureSoftHsmToken({ dataDir, label: TOKEN, soPin: '87654321', userPin: PIN }));
    hsm = await Hsm.open({ modulePath, tokenLabel: TOKEN, pin: PIN });
    ca = await ensurePlatformCa(hsm, { dataDir });
    rootFile = path.join(dataDir, 'pki', 'root-ca.pem');
    issuingFile = path.join(dataDir, 'pki', 'issuing-ca.pem');
  });

  afterAll(async () => {
    await hsm?.close();
    setSoftHsmConf(previousConf);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('the first run creates both certificates and writes them to the data dir', async () => {
    expect(ca.created).toEqual({ root: true, issuing: true });
    expect(await readFile(rootFile, 'utf8')).toBe(ca.rootPem);
    expect(await readFile(issuingFile, 'utf8')).toBe(ca.issuingPem);
    expect(new x509.X509Certificate(ca.rootDer).toString('pem')).toBe(ca.rootPem);
  });

  test('openssl verifies the issuing CA against the root', async () => {
    expect((await openssl('verify', '-CAfile', rootFile, issuingFile)).trim()).toBe(`${issuingFile}: OK`);
  });

  test('the root certificate is a self-signed CA for certificate and CRL signing, valid for 20 years', async () => {
    const out = await text(rootFile);
    expect(out).toContain('Subject: C=CN, O=北京市公安局, CN=北京市电子印章管理服务平台根CA');
    expect(out).toContain('Issuer: C=CN, O=北京市公安局, CN=北京市电子印章管理服务平台根CA');
    expect(out).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE\n/);
    expect(out).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    expect(out).toContain('X509v3 Subject Key Identifier');
    expect(out).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(out).toContain('ASN1 OID: prime256v1');
    expect(ca.root.notAfter.getUTCFullYear() - ca.root.notBefore.getUTCFullYear()).toBe(20);
    expect(ca.root.keyLabel).toBe(ROOT_CA_KEY_LABEL);
  });

  test('the issuing certificate is a CA with path length 0 whose authority key id is the root key id', async () => {
    const out = await text(issuingFile);
    expect(out).toContain('Issuer: C=CN, O=北京市公安局, CN=北京市电子印章管理服务平台根CA');
    expect(out).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0\n/);
    expect(out).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    const rootSki = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(await text(rootFile))![1];
    expect(/Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/.exec(out)![1]).toBe(rootSki);
    expect(ca.issuing.notAfter.getUTCFullYear() - ca.issuing.notBefore.getUTCFullYear()).toBe(10);
    expect(ca.issuing.keyLabel).toBe(ISSUING_CA_KEY_LABEL);
  });

  test('the certificates carry the public keys of the HSM keys', async () => {
    const root = new x509.X509Certificate(ca.rootDer);
    const issuing = new x509.X509Certificate(ca.issuingDer);
    expect(Buffer.from(root.publicKey.rawData).equals(await hsm.publicKeySpki(ROOT_CA_KEY_LABEL))).toBe(true);
    expect(Buffer.from(issuing.publicKey.rawData).equals(await hsm.publicKeySpki(ISSUING_CA_KEY_LABEL))).toBe(true);
  });

  test('running ensurePlatformCa again, even through a new HSM session, keeps the same certificates', async () => {
    const again = await ensurePlatformCa(hsm, { dataDir });
    expect(again.created).toEqual({ root: false, issuing: false });
    expect(again.rootDer.equals(ca.rootDer)).toBe(true);
    expect(again.issuingDer.equals(ca.issuingDer)).toBe(true);

    await hsm.close();
    hsm = await Hsm.open({ modulePath, tokenLabel: TOKEN, pin: PIN });
    const third = await ensurePlatformCa(hsm, { dataDir });
    expect(third.rootPem).toBe(ca.rootPem);
    expect(third.issuingPem).toBe(ca.issuingPem);
    expect(third.root.sha256Fingerprint).toBe(ca.root.sha256Fingerprint);
  });

  test('a seal certificate issued by the issuing CA chains to the root in openssl', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    const notBefore = new Date();
    const issued = await issueCertificate(hsm, {
      issuerCertDer: ca.issuingDer,
      issuerKeyLabel: ISSUING_CA_KEY_LABEL,
      subject: [{ C: ['CN'] }, { O: ['北京某某科技有限公司'] }, { CN: ['北京某某科技有限公司公章'] }],
      publicKeySpki: spki,
      serial: '0123456789abcdef',
      notBefore,
      notAfter: new Date(notBefore.getTime() + 365 * 86400_000),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
      ],
    });
    expect(issued.serialNumber).toBe('0123456789abcdef');
    const leafFile = path.join(dataDir, 'seal.pem');
    await writeFile(leafFile, issued.pem);
    expect((await openssl('verify', '-CAfile', rootFile, '-untrusted', issuingFile, leafFile)).trim()).toBe(
      `${leafFile}: OK`,
    );
    const out = await text(leafFile);
    expect(out).toContain('Digital Signature, Non Repudiation');
    const issuingSki = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(await text(issuingFile))![1];
    expect(/Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/.exec(out)![1]).toBe(issuingSki);
  });

  test('issuing with an HSM key that does not match the issuer certificate is refused', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expect(
      issueCertificate(hsm, {
        issuerCertDer: ca.rootDer,
        issuerKeyLabel: ISSUING_CA_KEY_LABEL,
        subject: 'CN=mismatch',
        publicKeySpki: publicKey.export({ format: 'der', type: 'spki' }),
        notBefore: new Date(),
        notAfter: new Date(Date.now() + 86400_000),
        extensions: [],
      }),
    ).rejects.toThrow(/does not match/);
  });

  test('a root certificate file that no longer matches the HSM key is moved aside and replaced', async () => {
    await writeFile(rootFile, ca.issuingPem); // wrong key in the root's place
    const repaired = await ensurePlatformCa(hsm, { dataDir });
    expect(repaired.created).toEqual({ root: true, issuing: false });
    expect(repaired.rootDer.equals(ca.rootDer)).toBe(false);
    expect((await readdir(path.join(dataDir, 'pki'))).some((f) => f.startsWith('root-ca.pem.replaced-'))).toBe(true);
    // Same root key and name, so the existing issuing certificate still chains to the new root.
    expect((await openssl('verify', '-CAfile', rootFile, issuingFile)).trim()).toBe(`${issuingFile}: OK`);
  });
});
