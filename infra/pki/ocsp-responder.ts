// The delegated OCSP responder (RFC 6960 §4.2.2.2): its own P-256 key in the HSM and a certificate from
// the issuing CA with id-kp-OCSPSigning, so the issuing CA key signs only certificates and CRLs.
// id-pkix-ocsp-nocheck tells relying parties not to check the responder certificate's own status; the
// certificate is therefore short-lived (one year) and re-issued at start-up well before it expires.
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { id_kp_OCSPSigning, id_pkix_ocsp_nocheck } from '@peculiar/asn1-ocsp';
import * as x509 from './x509';
import type { Hsm } from '../hsm/hsm';
import { CA_ORGANIZATION, ISSUING_CA_KEY_LABEL, issueCertificate } from './ca';
import { hsmCrypto } from './hsm-crypto';

export const OCSP_RESPONDER_KEY_LABEL = 'eseal-ocsp-responder';
export const OCSP_RESPONDER_CN = '北京市电子印章管理服务平台OCSP响应服务';
const VALIDITY_DAYS = 365;
/** Re-issued at start-up when less than this remains. */
const RENEW_BEFORE_DAYS = 30;
const DAY = 86_400_000;
/** ocsp-nocheck's value is NULL (RFC 6960 §4.2.2.2.1). */
const DER_NULL = new Uint8Array([0x05, 0x00]);

export interface OcspResponderCertificate {
  keyLabel: string;
  certificate: x509.X509Certificate;
  path: string;
  created: boolean;
}

async function isUsable(cert: x509.X509Certificate, spki: Buffer, issuing: x509.X509Certificate, now: Date): Promise<boolean> {
  if (!spki.equals(Buffer.from(cert.publicKey.rawData))) return false;
  if (cert.issuer !== issuing.subject) return false;
  if (cert.notAfter.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY) return false;
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (!eku?.usages.includes(id_kp_OCSPSigning)) return false;
  if (!cert.getExtension(id_pkix_ocsp_nocheck)) return false;
  return cert.verify({ publicKey: issuing.publicKey, signatureOnly: true }, hsmCrypto);
}

/**
 * Ensures the responder key `eseal-ocsp-responder` in the HSM and a valid certificate for it in
 * `<dataDir>/pki/ocsp-responder.pem` (reused when it still matches the key and the issuing CA).
 */
export async function ensureOcspResponderCertificate(
  hsm: Hsm,
  opts: { dataDir: string; issuingDer: Buffer; now?: Date },
): Promise<OcspResponderCertificate> {
  const now = opts.now ?? new Date();
  const file = path.join(path.resolve(opts.dataDir, 'pki'), 'ocsp-responder.pem');
  const spki = (await hsm.ensureEcKeyPair(OCSP_RESPONDER_KEY_LABEL)).publicKeySpki;
  const issuing = new x509.X509Certificate(opts.issuingDer);

  const onDisk = await readFile(file, 'utf8').then(
    (pem) => new x509.X509Certificate(pem),
    () => undefined,
  );
  if (onDisk && (await isUsable(onDisk, spki, issuing, now))) {
    return { keyLabel: OCSP_RESPONDER_KEY_LABEL, certificate: onDisk, path: file, created: false };
  }

  const notBefore = new Date(now.getTime() - 10 * 60_000); // relying parties' clock skew
  const notAfter = new Date(notBefore.getTime() + VALIDITY_DAYS * DAY);
  const { certificate } = await issueCertificate(hsm, {
    issuerCertDer: opts.issuingDer,
    issuerKeyLabel: ISSUING_CA_KEY_LABEL,
    subject: [{ C: ['CN'] }, { O: [CA_ORGANIZATION] }, { CN: [OCSP_RESPONDER_CN] }],
    publicKeySpki: spki,
    notBefore,
    notAfter: notAfter < issuing.notAfter ? notAfter : issuing.notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([id_kp_OCSPSigning], false),
      new x509.Extension(id_pkix_ocsp_nocheck, false, DER_NULL),
      await x509.SubjectKeyIdentifierExtension.create(spki, false, hsmCrypto),
    ],
  });
  // Written beside and renamed, so a reader never sees half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, certificate.toString('pem'), { mode: 0o644 });
  await rename(tmp, file);
  return { keyLabel: OCSP_RESPONDER_KEY_LABEL, certificate, path: file, created: true };
}
