// Test fixtures of the national format: a self-issued SM2 seal maker (another platform's, or the format's own
// tests without the SM2 CA) and an SES_Signature made directly with a seal, outside the product's signing path.
import type { Sm2Module } from '../../infra/hsm/sm2-module';
import { randomSerial } from '../../infra/pki/ca';
import type * as x509 from '../../infra/pki/x509';
import { issueSm2Certificate } from '../../infra/gm/sm2-certificates';
import { makeSesSignature, sm3 } from '../../infra/gm/ses';
import type { NationalSeal, SealMaker } from '../../infra/gm/national-seal';

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

/** An SES_Signature (v4) of `data` (its SM3 hash) by a national seal. */
export function signWithNationalSeal(sm2: Sm2Module, seal: NationalSeal, data: Buffer, propertyInfo: string, time = new Date()): Promise<Buffer> {
  return makeSesSignature({ seal: seal.seal, signerCertificate: seal.certificate, dataHash: sm3(data), propertyInfo, time, sign: (tbs) => sm2.sign(seal.key, tbs) });
}
