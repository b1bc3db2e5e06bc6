// X.509 certificates signed with SM2/SM3 (GM/T 0015: signature algorithm 1.2.156.10197.1.501, no parameters),
// built with @peculiar/asn1-x509. @peculiar/x509 signs through WebCrypto, which has no SM2; here the
// TBSCertificate is encoded by the library and signed by the caller (the software SM2 module).
import { createHash } from 'node:crypto';
import { AsnConvert, AsnProp, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import * as x509 from '../pki/x509';
import { OID_SM2_WITH_SM3, sm2Verify } from './sm2';

export interface Sm2CertificateParams {
  /** Hex, positive (see randomSerial). */
  serialNumber: string;
  subject: string | x509.JsonName;
  /** The issuer's subject (or its DER, as in the issuer's certificate); the subject itself for a self-signed root. */
  issuer: string | x509.JsonName | Buffer;
  publicKeySpki: Buffer;
  issuerPublicKeySpki: Buffer;
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  /** A CA's pathLenConstraint (the issuing CA: 0). */
  pathLen?: number;
  /** Key usages instead of the defaults (a CA's, an end entity's). */
  keyUsage?: number;
  /** Further extensions (policies, CRL distribution points, AIA, extended key usage). */
  extensions?: Extension[];
  /** SM2 signature (DER) of the TBSCertificate's DER. */
  sign: (tbs: Buffer) => Promise<Buffer>;
}

/** The key identifier of an SM2 key: SM3 of its public key bits, 20 octets. */
export const keyId = (spki: Buffer) => {
  const key = AsnConvert.parse(spki, SubjectPublicKeyInfo).subjectPublicKey;
  return createHash('sm3').update(Buffer.from(key)).digest().subarray(0, 20);
};
const asnName = (n: string | x509.JsonName | Buffer) => AsnConvert.parse(Buffer.isBuffer(n) ? n : new x509.Name(n as never).toArrayBuffer(), Name);
/** An extension of `value` (an asn1-x509 structure). */
export const ext = (extnID: string, critical: boolean, value: unknown) => new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });

/** An SM2 certificate (DER): a CA's and seal maker's (keyCertSign, cRLSign, digitalSignature) or an end entity's (digitalSignature, nonRepudiation). */
export async function issueSm2Certificate(p: Sm2CertificateParams): Promise<Buffer> {
  const algorithm = new AlgorithmIdentifier({ algorithm: OID_SM2_WITH_SM3 });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(Buffer.from(p.serialNumber, 'hex')).buffer,
    signature: algorithm,
    issuer: asnName(p.issuer),
    validity: new Validity({ notBefore: p.notBefore, notAfter: p.notAfter }),
    subject: asnName(p.subject),
    subjectPublicKeyInfo: AsnConvert.parse(p.publicKeySpki, SubjectPublicKeyInfo),
    extensions: new Extensions([
      ext(id_ce_basicConstraints, true, new BasicConstraints({ cA: p.ca, ...(p.ca && p.pathLen !== undefined ? { pathLenConstraint: p.pathLen } : {}) })),
      ext(
        id_ce_keyUsage,
        true,
        // A self-issued seal maker's signature on a seal is a digitalSignature (Java's
        // Signature.initVerify(Certificate) refuses a critical key usage without it).
        new KeyUsage(p.keyUsage ?? (p.ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature : KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation)),
      ),
      ext(id_ce_subjectKeyIdentifier, false, new KeyIdentifier(new Uint8Array(keyId(p.publicKeySpki)).buffer)),
      ext(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(keyId(p.issuerPublicKeySpki)).buffer) })),
      ...(p.extensions ?? []),
    ]),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = await p.sign(tbsDer);
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: algorithm, signatureValue: new Uint8Array(signature).buffer });
  return Buffer.from(AsnConvert.serialize(cert));
}

/** The SubjectPublicKeyInfo (DER) of a certificate. */
export function certificateSpki(certDer: Buffer): Buffer {
  return Buffer.from(AsnConvert.serialize(AsnConvert.parse(certDer, Certificate).tbsCertificate.subjectPublicKeyInfo));
}

/** Certificate with its TBSCertificate kept as received (raw DER), to check a signature over those bytes. */
class RawCertificate {
  tbsCertificate = new ArrayBuffer(0);
  signatureAlgorithm = new AlgorithmIdentifier();
  signatureValue = new ArrayBuffer(0);
}
AsnProp({ type: AsnPropTypes.Any })(RawCertificate.prototype, 'tbsCertificate');
AsnProp({ type: AlgorithmIdentifier })(RawCertificate.prototype, 'signatureAlgorithm');
AsnProp({ type: AsnPropTypes.BitString })(RawCertificate.prototype, 'signatureValue');

/** Whether `certDer` carries an SM2/SM3 signature by the key of `issuerSpki`, over its TBSCertificate as received. */
export function sm2CertificateSignedBy(certDer: Buffer, issuerSpki: Buffer): boolean {
  const raw = AsnConvert.parse(certDer, RawCertificate);
  if (raw.signatureAlgorithm.algorithm !== OID_SM2_WITH_SM3) return false;
  return sm2Verify(issuerSpki, Buffer.from(raw.tbsCertificate), Buffer.from(raw.signatureValue));
}

/** A certificate's serial number, lower-case hex (as `seals.certificate_serial` keeps X.509 serials). */
export function certificateSerialHex(certDer: Buffer): string {
  return Buffer.from(AsnConvert.parse(certDer, Certificate).tbsCertificate.serialNumber).toString('hex');
}

/** The subject Name (DER) of a certificate, as encoded there: the issuer of the certificates it signs. */
export function certificateSubjectDer(certDer: Buffer): Buffer {
  return Buffer.from(AsnConvert.serialize(AsnConvert.parse(certDer, Certificate).tbsCertificate.subject));
}
