// An end-entity certificate from the issuing CA for one of the platform's own HSM keys (platform signing,
// OCSP responder, audit heads): the key is found or generated in the HSM, and the PEM file beside the CA
// chain is reused while it still certifies that key under the current issuing CA with enough time left;
// otherwise a new certificate is issued (signed in the HSM) and written in place.
import { readFile, rename, writeFile } from 'node:fs/promises';
import * as x509 from './x509';
import type { Hsm } from '../hsm/hsm';
import { CA_ORGANIZATION, ISSUING_CA_KEY_LABEL, issueCertificate } from './ca';
import { hsmCrypto } from './hsm-crypto';

const DAY = 86_400_000;
/** Relying parties' clock skew. */
const BACKDATE_MS = 10 * 60_000;

export interface KeyCertificateSpec {
  keyLabel: string;
  /** Where the PEM lives (`<dataDir>/pki/…`). */
  file: string;
  issuingDer: Buffer | Uint8Array;
  commonName: string;
  /** notAfter from notBefore (capped at the issuing CA's own notAfter). */
  notAfter: (notBefore: Date) => Date;
  /** Re-issued when less than this remains. */
  renewBeforeDays: number;
  keyUsages: x509.KeyUsageFlags;
  /** Placed between key usage and the subject key identifier. */
  extensions?: x509.Extension[];
  /** The token holding the issuing CA key, when the key certified is in another token (M4: the web's OCSP responder). */
  issuerHsm?: Hsm;
  /** Further conditions a certificate on disk must meet to be reused (e.g. its extended key usage). */
  accept?: (cert: x509.X509Certificate) => boolean;
  now?: Date;
}

export interface KeyCertificate {
  keyLabel: string;
  certificate: x509.X509Certificate;
  path: string;
  created: boolean;
}

export async function ensureKeyCertificate(hsm: Hsm, spec: KeyCertificateSpec): Promise<KeyCertificate> {
  const now = spec.now ?? new Date();
  const spki = (await hsm.ensureEcKeyPair(spec.keyLabel)).publicKeySpki;
  const issuing = new x509.X509Certificate(spec.issuingDer);
  const onDisk = await readFile(spec.file, 'utf8').then(
    (pem) => new x509.X509Certificate(pem),
    () => undefined,
  );
  if (
    onDisk &&
    spki.equals(Buffer.from(onDisk.publicKey.rawData)) &&
    onDisk.issuer === issuing.subject &&
    onDisk.notAfter.getTime() - now.getTime() > spec.renewBeforeDays * DAY &&
    (spec.accept?.(onDisk) ?? true) &&
    (await onDisk.verify({ publicKey: issuing.publicKey, signatureOnly: true }, hsmCrypto))
  ) {
    return { keyLabel: spec.keyLabel, certificate: onDisk, path: spec.file, created: false };
  }

  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = spec.notAfter(notBefore);
  const { certificate } = await issueCertificate(spec.issuerHsm ?? hsm, {
    issuerCertDer: Buffer.from(spec.issuingDer),
    issuerKeyLabel: ISSUING_CA_KEY_LABEL,
    subject: [{ C: ['CN'] }, { O: [CA_ORGANIZATION] }, { CN: [spec.commonName] }],
    publicKeySpki: spki,
    notBefore,
    notAfter: notAfter < issuing.notAfter ? notAfter : issuing.notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(spec.keyUsages, true),
      ...(spec.extensions ?? []),
      await x509.SubjectKeyIdentifierExtension.create(spki, false, hsmCrypto),
    ],
  });
  // Written beside and renamed, so a reader never sees half a file.
  const tmp = `${spec.file}.${process.pid}.tmp`;
  await writeFile(tmp, certificate.toString('pem'), { mode: 0o644 });
  await rename(tmp, spec.file);
  return { keyLabel: spec.keyLabel, certificate, path: spec.file, created: true };
}

/** notAfter this many days after notBefore. */
export const afterDays = (days: number) => (notBefore: Date) => new Date(notBefore.getTime() + days * DAY);
