// The platform's own PKI as provisioned at start-up: root and issuing CA (ca.ts), the platform signing
// key and the OCSP responder key with their certificates, all keys inside HSM tokens (root, issuing, web: M4); certificates on disk
// and in PostgreSQL. The issuing CA's first CRL is issued here too.
import { createHash } from 'node:crypto';
import path from 'node:path';
import * as x509 from './x509';
import type { Db } from '../db';
import type { Hsm } from '../hsm/hsm';
import { ensurePlatformCa, type CaTokens } from './ca';
import { currentCrl, generateCrl } from './crl';
import { ensureKeyCertificate } from './key-certificate';
import { ensureOcspResponderCertificate } from './ocsp-responder';
import { ensureTsaCertificate } from './tsa';

export const PLATFORM_SIGNING_KEY_LABEL = 'eseal-platform-signing';
const PLATFORM_SIGNING_CN = '北京市电子印章管理服务平台签名';
export const PLATFORM_SIGNING_RENEW_BEFORE_DAYS = 30;

export interface PlatformSigningKey {
  keyLabel: string;
  certificateFingerprint: string;
}

const fingerprint = (der: Buffer) => createHash('sha256').update(der).digest('hex');

/**
 * The platform signing key's certificate (five years), re-issued at start-up once 30 days or less remain,
 * as the responder's is: provisioning runs only at start-up, so a certificate reused with hours left would
 * expire under a running platform.
 */
export function ensurePlatformSigningCertificate(hsm: Hsm, opts: { dataDir: string; issuingDer: Buffer; now?: Date }) {
  return ensureKeyCertificate(hsm, {
    keyLabel: PLATFORM_SIGNING_KEY_LABEL,
    file: path.join(path.resolve(opts.dataDir, 'pki'), 'platform-signing.pem'),
    issuingDer: opts.issuingDer,
    commonName: PLATFORM_SIGNING_CN,
    notAfter: (notBefore) => {
      const fiveYears = new Date(notBefore);
      fiveYears.setUTCFullYear(fiveYears.getUTCFullYear() + 5);
      return fiveYears;
    },
    renewBeforeDays: PLATFORM_SIGNING_RENEW_BEFORE_DAYS,
    keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    now: opts.now,
  });
}

/**
 * M4: `tokens.issuing` holds the issuing CA, platform signing and TSA keys, `tokens.web` gets the OCSP responder key,
 * and `tokens.root()` opens the root token only if the CA certificates must be made (ensurePlatformCa).
 */
export async function provisionPlatformPki(tokens: Exclude<CaTokens, Hsm> & { web: Hsm }, db: Db, dataDir: string, opts: { crlNextUpdateHours?: number } = {}) {
  const hsm = tokens.issuing;
  const ca = await ensurePlatformCa(tokens, { dataDir });
  const dir = path.resolve(dataDir, 'pki');
  const issuing = new x509.X509Certificate(ca.issuingDer);
  const { certificate: cert } = await ensurePlatformSigningCertificate(hsm, { dataDir, issuingDer: ca.issuingDer });

  const responder = await ensureOcspResponderCertificate(tokens.web, { dataDir, issuingDer: ca.issuingDer, issuerHsm: hsm });
  const tsa = await ensureTsaCertificate(hsm, { dataDir, issuingDer: ca.issuingDer });

  const rows = [
    { purpose: 'root', key_label: ca.root.keyLabel, cert: new x509.X509Certificate(ca.rootDer) },
    { purpose: 'issuing', key_label: ca.issuing.keyLabel, cert: issuing },
    { purpose: 'platform_signing', key_label: PLATFORM_SIGNING_KEY_LABEL, cert },
    { purpose: 'ocsp_responder', key_label: responder.keyLabel, cert: responder.certificate },
    { purpose: 'tsa', key_label: tsa.keyLabel, cert: tsa.certificate },
  ].map(({ purpose, key_label, cert: c }) => {
    const der = Buffer.from(c.rawData);
    return {
      fingerprint_sha256: fingerprint(der),
      purpose,
      key_label,
      subject: c.subject,
      serial: c.serialNumber,
      der,
      pem: c.toString('pem'),
      not_before: c.notBefore,
      not_after: c.notAfter,
    };
  });
  await db('ca_certificates').insert(rows).onConflict('fingerprint_sha256').ignore();
  // Relying parties can fetch a CRL from the first start on (later ones follow every status change); one
  // that expired while the platform was down, or names another issuing CA, is replaced at once.
  const crl = await currentCrl(db);
  if (!crl || crl.nextUpdate <= new Date() || new x509.X509Crl(crl.der).issuer !== issuing.subject) {
    await generateCrl(hsm, db, { nextUpdateHours: opts.crlNextUpdateHours });
  }
  return { dir, platformKey: { keyLabel: PLATFORM_SIGNING_KEY_LABEL, certificateFingerprint: rows[2].fingerprint_sha256 } };
}

/** The platform signing certificate provisioned most recently (workers read it at start-up). */
export async function loadPlatformSigningKey(db: Db): Promise<PlatformSigningKey> {
  const row = await db('ca_certificates').where({ purpose: 'platform_signing' }).orderBy('created_at', 'desc').first();
  if (!row) throw new Error('No platform signing certificate in PostgreSQL: provision with `make up` first.');
  return { keyLabel: row.key_label, certificateFingerprint: row.fingerprint_sha256 };
}
