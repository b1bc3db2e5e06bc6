// Certificates and CRLs of other e-seal platforms (I2): hostile input, read with @peculiar/asn1-x509 and
// checked over the bytes as received. SM2/SM3 signatures (GM/T 0015) are checked with the default user ID
// (infra/gm/sm2.ts); ECDSA and RSA ones with Node's crypto.
import { createHash, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, CertificateList } from '@peculiar/asn1-x509';
import { OID_SM2_WITH_SM3, sm2Verify } from '../gm/sm2';
import { certificateSpki, sm2CertificateSignedBy } from '../gm/sm2-certificates';

export interface ForeignCertificate {
  der: Buffer;
  subject: string;
  issuer: string;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  sha256: string;
  sm3: string;
  isCa: boolean;
}

const oneLine = (s: string) => s.replace(/\n/g, ', ');

/** Parses a DER certificate; throws a plain Error when it is none. */
export function readCertificate(der: Buffer): ForeignCertificate {
  AsnConvert.parse(der, Certificate); // structure first: Node accepts some trailing garbage
  const c = new X509Certificate(der);
  return {
    der,
    subject: oneLine(c.subject),
    issuer: oneLine(c.issuer),
    serialHex: c.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
    sha256: createHash('sha256').update(der).digest('hex'),
    sm3: createHash('sm3').update(der).digest('hex'),
    isCa: c.ca,
  };
}

const HASH_OF_ALG: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

/** Whether `data` carries `signature` (alg OID) by the key of `issuerDer`'s certificate. Never throws. */
export function signedByCertificate(alg: string, data: Buffer, signature: Buffer, issuerDer: Buffer): boolean {
  try {
    if (alg === OID_SM2_WITH_SM3) return sm2Verify(certificateSpki(issuerDer), data, signature);
    const hash = HASH_OF_ALG[alg];
    if (!hash) return false;
    return cryptoVerify(hash, data, new X509Certificate(issuerDer).publicKey, signature);
  } catch {
    return false;
  }
}

/** Whether `childDer` was issued by `issuerDer` (names and signature). Never throws. */
export function issuedBy(childDer: Buffer, issuerDer: Buffer): boolean {
  try {
    const child = new X509Certificate(childDer);
    const issuer = new X509Certificate(issuerDer);
    if (child.issuer !== issuer.subject) return false;
    const alg = AsnConvert.parse(childDer, Certificate).signatureAlgorithm.algorithm;
    if (alg === OID_SM2_WITH_SM3) return sm2CertificateSignedBy(childDer, certificateSpki(issuerDer));
    return child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * The path from `leaf` to one of `roots`: directly, or through one of `intermediates` (a platform's
 * seal-making or issuing CA). Each certificate must be valid at `at`; the intermediate must be a CA.
 * Returns the chain (leaf first) or null.
 */
export function chainTo(leaf: Buffer, intermediates: Buffer[], roots: Buffer[], at: Date): Buffer[] | null {
  const valid = (der: Buffer) => {
    const c = readCertificate(der);
    return c.notBefore <= at && at <= c.notAfter;
  };
  if (!valid(leaf)) return null;
  for (const r of roots) if (r.equals(leaf) && valid(r)) return [leaf];
  for (const r of roots) if (valid(r) && issuedBy(leaf, r)) return [leaf, r];
  for (const m of intermediates) {
    if (m.equals(leaf) || !valid(m) || !readCertificate(m).isCa || !issuedBy(leaf, m)) continue;
    for (const r of roots) if (valid(r) && issuedBy(m, r)) return [leaf, m, r];
  }
  return null;
}

export interface ReadCrl {
  issuer: string;
  thisUpdate: Date;
  nextUpdate: Date | null;
  /** Serial (lower-case hex, no leading zeros) → revocation time (ISO). */
  revoked: Record<string, string>;
  /** The certificate (of those given) whose key signed the CRL. */
  signerDer: Buffer;
}

const serialHex = (b: ArrayBuffer) => Buffer.from(b).toString('hex').replace(/^0+(?=.)/, '');

/** Parses a DER CRL and checks it was signed by one of `issuers`; throws a plain Error otherwise. */
export function readCrl(der: Buffer, issuers: Buffer[]): ReadCrl {
  const crl = AsnConvert.parse(der, CertificateList);
  const tbs = Buffer.from(crl.tbsCertListRaw ?? AsnConvert.serialize(crl.tbsCertList));
  const alg = crl.signatureAlgorithm.algorithm;
  const signerDer = issuers.find((i) => signedByCertificate(alg, tbs, Buffer.from(crl.signature), i));
  if (!signerDer) throw new Error('the CRL is not signed by any of the platform\'s root certificates');
  const revoked: Record<string, string> = {};
  for (const r of crl.tbsCertList.revokedCertificates ?? []) revoked[serialHex(r.userCertificate)] = r.revocationDate.getTime().toISOString();
  return {
    issuer: new X509Certificate(signerDer).subject.replace(/\n/g, ', '),
    thisUpdate: crl.tbsCertList.thisUpdate.getTime(),
    nextUpdate: crl.tbsCertList.nextUpdate ? crl.tbsCertList.nextUpdate.getTime() : null,
    revoked,
    signerDer,
  };
}
