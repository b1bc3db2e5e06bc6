// A seal in the national format: the holder's SM2 key (software module, wrapped by the HSM), its SM2
// certificate and the GB/T 38540 SESeal, signed by the platform's SM2 seal-making key (制章者). On the
// platform both certificates come from the SM2 issuing CA (sm2-ca.ts, `issue`); without one (tests of the
// format alone) the maker is self-issued (test/helpers/national-seal.ts) and certifies holders' keys itself.
import type { Sm2Module, WrappedSm2Key } from '../hsm/sm2-module';
import { randomSerial } from '../pki/ca';
import type * as x509 from '../pki/x509';
import { certificateSpki, issueSm2Certificate } from './sm2-certificates';
import { makeSeal, type SealContent } from './ses';

export interface SealMaker {
  key: WrappedSm2Key;
  certificate: Buffer;
  subject: x509.JsonName;
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
