import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as x509 from './x509';
import type { Hsm } from '../hsm/hsm';
import { hsmCrypto, hsmSigningKey } from './hsm-crypto';

export const ROOT_CA_KEY_LABEL = 'eseal-root-ca';
export const ISSUING_CA_KEY_LABEL = 'eseal-issuing-ca';
export const ROOT_CA_CN = '北京市电子印章管理服务平台根CA';
export const ISSUING_CA_CN = '北京市电子印章管理服务平台签发CA';
export const CA_ORGANIZATION = '北京市公安局';
const ID_CE_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';

export interface CaCertificateInfo {
  keyLabel: string;
  subject: string;
  serialNumber: string; // hex
  notBefore: Date;
  notAfter: Date;
  sha256Fingerprint: string; // hex of the DER
  path: string;
}

export interface PlatformCa {
  rootPem: string;
  issuingPem: string;
  rootDer: Buffer;
  issuingDer: Buffer;
  root: CaCertificateInfo;
  issuing: CaCertificateInfo;
  /** Which certificates this call wrote (false: the files on disk were reused). */
  created: { root: boolean; issuing: boolean };
}

export interface IssueCertificateParams {
  issuerCertDer: Buffer;
  issuerKeyLabel: string;
  subject: string | x509.JsonName | x509.Name;
  publicKeySpki: Buffer;
  /** Hex serial; {@link randomSerial} when omitted. */
  serial?: string;
  notBefore: Date;
  notAfter: Date;
  /** An AuthorityKeyIdentifier from the issuer's SKI is added unless one is given here. */
  extensions: x509.Extension[];
}

export interface IssuedCertificate {
  der: Buffer;
  pem: string;
  serialNumber: string;
  certificate: x509.X509Certificate;
}

const toBuffer = (ab: ArrayBuffer) => Buffer.from(ab);

/**
 * A certificate serial: 16 random octets, the first in 0x40–0x7f, so the DER INTEGER is positive, exactly 16
 * octets long (RFC 5280 §4.1.2.2: ≤ 20; CA/B BR: ≥ 64 random bits) and carries 126 random bits. Hex.
 */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x3f) | 0x40;
  return b.toString('hex');
}
const plusYears = (d: Date, years: number) => {
  const r = new Date(d);
  r.setUTCFullYear(r.getUTCFullYear() + years);
  return r;
};

async function sign(
  hsm: Hsm,
  keyLabel: string,
  params: Omit<x509.X509CertificateCreateWithKeyParams, 'signingKey' | 'signingAlgorithm'>,
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create(
    { ...params, signingKey: hsmSigningKey(hsm, keyLabel), signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } },
    hsmCrypto,
  );
}

/** Signs a certificate for `publicKeySpki` with an HSM-held issuer key (ECDSA P-256 / SHA-256). */
export async function issueCertificate(hsm: Hsm, p: IssueCertificateParams): Promise<IssuedCertificate> {
  const issuer = new x509.X509Certificate(p.issuerCertDer);
  // Refuse to produce a certificate that would not verify under the issuer certificate.
  const issuerKey = await hsm.publicKeySpki(p.issuerKeyLabel);
  if (!issuerKey.equals(toBuffer(issuer.publicKey.rawData))) {
    throw new Error(`HSM key "${p.issuerKeyLabel}" does not match the issuer certificate ${issuer.subject}`);
  }
  if (p.notAfter > issuer.notAfter) throw new Error('certificate would outlive its issuer');
  const extensions = [...p.extensions];
  if (!extensions.some((e) => e.type === ID_CE_AUTHORITY_KEY_IDENTIFIER)) {
    const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
    extensions.push(
      ski
        ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
        : await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey, false, hsmCrypto),
    );
  }
  const certificate = await sign(hsm, p.issuerKeyLabel, {
    serialNumber: p.serial ?? randomSerial(),
    subject: p.subject,
    issuer: issuer.subjectName,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    publicKey: p.publicKeySpki,
    extensions,
  });
  return {
    der: toBuffer(certificate.rawData),
    pem: certificate.toString('pem'),
    serialNumber: certificate.serialNumber,
    certificate,
  };
}

function caName(cn: string): x509.JsonName {
  return [{ C: ['CN'] }, { O: [CA_ORGANIZATION] }, { CN: [cn] }];
}

async function readCert(file: string): Promise<x509.X509Certificate | undefined> {
  try {
    return new x509.X509Certificate(await readFile(file, 'utf8'));
  } catch {
    return undefined; // missing, or garbled (then exists() is true and it gets replaced)
  }
}

async function exists(file: string): Promise<boolean> {
  return readFile(file).then(
    () => true,
    () => false,
  );
}

/**
 * Publishes `pem` at `file` without clobbering a file another process wrote meanwhile (link() fails on
 * EEXIST). Returns false if someone else won; the caller then re-reads and validates theirs.
 */
async function publish(file: string, pem: string): Promise<boolean> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, pem, { mode: 0o644 });
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp);
  }
}

/** Moves a certificate that no longer matches the HSM aside (it may already have been handed out). */
async function retire(file: string): Promise<void> {
  if (await exists(file)) await rename(file, `${file}.replaced-${new Date().toISOString().replace(/[:.]/g, '')}`);
}

/** Returns the valid certificate on disk, or creates and publishes one (re-reading if another process won). */
async function establish(
  file: string,
  valid: (cert: x509.X509Certificate) => Promise<boolean>,
  create: () => Promise<x509.X509Certificate>,
): Promise<{ cert: x509.X509Certificate; created: boolean }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const onDisk = await readCert(file);
    if (onDisk && (await valid(onDisk))) return { cert: onDisk, created: false };
    if (await exists(file)) await retire(file);
    const cert = await create();
    if (await publish(file, cert.toString('pem'))) return { cert, created: true };
  }
  throw new Error(`cannot establish ${file}`);
}

async function isSelfSignedCa(cert: x509.X509Certificate): Promise<boolean> {
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  return !!bc?.ca && (await cert.isSelfSigned(hsmCrypto));
}

async function isValidRoot(cert: x509.X509Certificate | undefined, spki: Buffer): Promise<boolean> {
  if (!cert || !spki.equals(toBuffer(cert.publicKey.rawData))) return false;
  return isSelfSignedCa(cert);
}

async function isValidIssuing(
  cert: x509.X509Certificate | undefined,
  spki: Buffer,
  root: x509.X509Certificate,
): Promise<boolean> {
  if (!cert || !spki.equals(toBuffer(cert.publicKey.rawData))) return false;
  if (cert.issuer !== root.subject) return false;
  return cert.verify({ publicKey: root.publicKey, signatureOnly: true }, hsmCrypto);
}

function info(cert: x509.X509Certificate, keyLabel: string, file: string): CaCertificateInfo {
  return {
    keyLabel,
    subject: cert.subject,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    sha256Fingerprint: createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex'),
    path: file,
  };
}

/**
 * M4: the tokens the CA needs. `issuing` holds the issuing CA key; `root()` opens the root token, and is called
 * only when something must be signed with the root key (a root certificate or an issuing-CA certificate does
 * not exist yet or no longer fits): a platform already set up never logs in to it. One Hsm serves both (tests).
 */
export type CaTokens = Hsm | { issuing: Hsm; root: () => Promise<Hsm> };

/**
 * Ensures the platform root and issuing CA: keys in the HSM tokens, certificates in `<dataDir>/pki/`.
 * Existing certificate files are reused when the root is a self-signed CA and the issuing CA certificate
 * certifies the issuing token's key under it; otherwise the root token is opened, and what does not match
 * its key is moved aside and replaced.
 */
export async function ensurePlatformCa(tokens: CaTokens, opts: { dataDir: string; subjectPrefix?: string }): Promise<PlatformCa> {
  const issuingHsm = 'issuing' in tokens ? tokens.issuing : tokens;
  const openRoot = 'issuing' in tokens ? tokens.root : async () => tokens;
  const prefix = opts.subjectPrefix ?? '';
  const dir = path.resolve(opts.dataDir, 'pki');
  const rootFile = path.join(dir, 'root-ca.pem');
  const issuingFile = path.join(dir, 'issuing-ca.pem');
  await mkdir(dir, { recursive: true });
  const issuingSpki = (await issuingHsm.ensureEcKeyPair(ISSUING_CA_KEY_LABEL)).publicKeySpki;

  // The root key is not needed while the certificates on disk already fit (the usual start).
  const rootOnDisk = await readCert(rootFile);
  const issuingOnDisk = await readCert(issuingFile);
  if (rootOnDisk && (await isSelfSignedCa(rootOnDisk)) && (await isValidIssuing(issuingOnDisk, issuingSpki, rootOnDisk))) {
    return result(rootOnDisk, issuingOnDisk!, rootFile, issuingFile, { root: false, issuing: false });
  }
  const rootHsm = await openRoot();
  const rootSpki = (await rootHsm.ensureEcKeyPair(ROOT_CA_KEY_LABEL)).publicKeySpki;
  const notBefore = new Date(Date.now() - 10 * 60_000); // tolerate clock skew of relying parties

  const root = await establish(
    rootFile,
    (c) => isValidRoot(c, rootSpki),
    async () => {
      const name = caName(prefix + ROOT_CA_CN);
      return sign(rootHsm, ROOT_CA_KEY_LABEL, {
        subject: name,
        issuer: name,
        notBefore,
        notAfter: plusYears(notBefore, 20),
        publicKey: rootSpki,
        extensions: [
          new x509.BasicConstraintsExtension(true, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(rootSpki, false, hsmCrypto),
        ],
      });
    },
  );
  const issuing = await establish(
    issuingFile,
    (c) => isValidIssuing(c, issuingSpki, root.cert),
    async () => (await issueIssuingCaCertificate(rootHsm, { rootDer: toBuffer(root.cert.rawData), issuingSpki, subject: caName(prefix + ISSUING_CA_CN), notBefore })).certificate,
  );
  return result(root.cert, issuing.cert, rootFile, issuingFile, { root: root.created, issuing: issuing.created });
}

/** An issuing-CA certificate (ten years, capped at the root's) for `issuingSpki`, signed with the root key. */
export async function issueIssuingCaCertificate(
  rootHsm: Hsm,
  p: { rootDer: Buffer; issuingSpki: Buffer; subject: IssueCertificateParams['subject']; notBefore?: Date },
): Promise<IssuedCertificate> {
  const root = new x509.X509Certificate(p.rootDer);
  const notBefore = p.notBefore ?? new Date(Date.now() - 10 * 60_000);
  const notAfter = plusYears(notBefore, 10);
  return issueCertificate(rootHsm, {
    issuerCertDer: p.rootDer,
    issuerKeyLabel: ROOT_CA_KEY_LABEL,
    subject: p.subject,
    publicKeySpki: p.issuingSpki,
    notBefore,
    notAfter: notAfter < root.notAfter ? notAfter : root.notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(p.issuingSpki, false, hsmCrypto),
    ],
  });
}

function result(root: x509.X509Certificate, issuing: x509.X509Certificate, rootFile: string, issuingFile: string, created: PlatformCa['created']): PlatformCa {
  return {
    rootPem: root.toString('pem'),
    issuingPem: issuing.toString('pem'),
    rootDer: toBuffer(root.rawData),
    issuingDer: toBuffer(issuing.rawData),
    root: info(root, ROOT_CA_KEY_LABEL, rootFile),
    issuing: info(issuing, ISSUING_CA_KEY_LABEL, issuingFile),
    created,
  };
}

/** Publishes a new issuing-CA certificate (the ceremony), moving the one it replaces aside. */
export async function replaceIssuingCaFile(dataDir: string, pem: string): Promise<string> {
  const file = path.join(path.resolve(dataDir, 'pki'), 'issuing-ca.pem');
  await retire(file);
  if (!(await publish(file, pem))) throw new Error(`${file} was written by another process meanwhile: run the ceremony again`);
  return file;
}
