// A seal in the national format: the holder's SM2 key (software module, wrapped by the HSM), its SM2
// certificate and the GB/T 38540 SESeal, signed by the platform's SM2 seal-making key (制章者). On the
// platform both certificates come from the SM2 issuing CA (sm2-ca.ts, `issue`); without one (tests of the
// format alone) the maker is self-issued and certifies holders' keys itself.
import type { Sm2Module, WrappedSm2Key } from '../hsm/sm2-module';
import { randomSerial } from '../pki/ca';
import type * as x509 from '../pki/x509';
import { certificateSpki, issueSm2Certificate } from './sm2-certificates';
import { makeSeal, makeSesSignature, sm3, type SealContent } from './ses';

export interface SealMaker {
  key: WrappedSm2Key;
  certificate: Buffer;
  subject: x509.JsonName;
}

/** The platform's SM2 seal-making key and its (self-issued) certificate. */
export async function createSealMaker(sm2: Sm2Module, subject: x509.JsonName, validity: { from: Date; to: Date }): Promise<SealMaker> {
  const key = await sm2.generateKeyPair();
  const certificate = await issueSm2Certificate({
    serialNumber: randomSerial(),
    subject,
    issuer: subject,
    publicKeySpki: key.publicKeySpki,
    issuerPublicKeySpki: key.publicKeySpki,
    notBefore: validity.from,
    notAfter: validity.to,
    ca: true,
    sign: (tbs) => sm2.sign(key, tbs),
  });
  return { key, certificate, subject };
}

export interface NationalSeal {
  key: WrappedSm2Key;
  certificate: Buffer;
  /** DER SESeal (v4). */
  seal: Buffer;
}

/** The holder's SM2 key and certificate, and the SESeal listing that certificate, signed by the maker. */
export async function makeNationalSeal(
  sm2: Sm2Module,
  maker: SealMaker,
  p: {
    subject: x509.JsonName;
    content: Omit<SealContent, 'signerCertificates'>;
    /** Issues the holder's SM2 certificate (the platform: its SM2 issuing CA); default: the maker. */
    issue?: (c: { subject: x509.JsonName; publicKeySpki: Buffer; notBefore: Date; notAfter: Date }) => Promise<Buffer>;
  },
): Promise<NationalSeal> {
  const key = await sm2.generateKeyPair();
  const certificate = p.issue
    ? await p.issue({ subject: p.subject, publicKeySpki: key.publicKeySpki, notBefore: p.content.validStart, notAfter: p.content.validEnd })
    : await issueSm2Certificate({
    serialNumber: randomSerial(),
    subject: p.subject,
    issuer: maker.subject,
    publicKeySpki: key.publicKeySpki,
    issuerPublicKeySpki: certificateSpki(maker.certificate),
    notBefore: p.content.validStart,
    notAfter: p.content.validEnd,
    ca: false,
    sign: (tbs) => sm2.sign(maker.key, tbs),
  });
  const seal = await makeSeal({ ...p.content, signerCertificates: [certificate] }, { certificate: maker.certificate, sign: (info) => sm2.sign(maker.key, info) });
  return { key, certificate, seal };
}

/** An SES_Signature (v4) of `data` (its SM3 hash) by a national seal. */
export function signWithNationalSeal(sm2: Sm2Module, seal: NationalSeal, data: Buffer, propertyInfo: string, time = new Date()): Promise<Buffer> {
  return makeSesSignature({ seal: seal.seal, signerCertificate: seal.certificate, dataHash: sm3(data), propertyInfo, time, sign: (tbs) => sm2.sign(seal.key, tbs) });
}
