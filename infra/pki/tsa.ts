// The platform's time-stamping authority (RFC 3161): its own P-256 key `eseal-tsa` in the issuing token
// (the HSM workers' token, beside the platform signing key), and a certificate from the issuing CA whose only
// extended key usage is id-kp-timeStamping, marked critical (RFC 3161 §2.3). Not in the web token like the
// OCSP responder: a timestamp is evidence of when a seal signed, so its key stays off the Internet-facing
// process; the web asks an HSM worker for each token (workflow `timestamp:<id>`).
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import * as x509 from './x509';
import type { Hsm } from '../hsm/hsm';
import { toDerEcdsaSignature } from '../hsm/hsm';
import { afterDays, ensureKeyCertificate, type KeyCertificate } from './key-certificate';
import { assembleSignedData, buildSignedAttributes, OID } from '../signing/cms';
import { tstInfoDer, type TimeStampRequest } from '../signing/tsp';

export const TSA_KEY_LABEL = 'eseal-tsa';
export const TSA_CN = '北京市电子印章管理服务平台时间戳服务';
export const ID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

/** The TSA's certificate in `<dataDir>/pki/tsa.pem` (two years, re-issued with 60 days left). */
export function ensureTsaCertificate(hsm: Hsm, opts: { dataDir: string; issuingDer: Buffer; now?: Date }): Promise<KeyCertificate> {
  return ensureKeyCertificate(hsm, {
    keyLabel: TSA_KEY_LABEL,
    file: path.join(path.resolve(opts.dataDir, 'pki'), 'tsa.pem'),
    issuingDer: opts.issuingDer,
    commonName: TSA_CN,
    notAfter: afterDays(2 * 365),
    renewBeforeDays: 60,
    keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    extensions: [new x509.ExtendedKeyUsageExtension([ID_KP_TIME_STAMPING], true)],
    accept: (cert) => {
      const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
      return !!eku?.critical && eku.usages.length === 1 && eku.usages[0] === ID_KP_TIME_STAMPING;
    },
    now: opts.now,
  });
}

export interface TsaIdentity {
  certificate: Buffer;
  /** Issuing CA (and root) certificates, included when the request asks for certificates. */
  chain: Buffer[];
  policy: string;
}

/** A time-stamp token (DER ContentInfo) over the request's imprint, signed with the TSA key in `hsm`. */
export async function issueTimeStampToken(hsm: Hsm, tsa: TsaIdentity, request: TimeStampRequest, genTime: Date): Promise<Buffer> {
  // 160 random bits: unique without a counter shared by the HSM workers.
  const serial = randomBytes(20);
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  const content = tstInfoDer({ policy: tsa.policy, request, serial, genTime });
  const attrs = buildSignedAttributes({ messageDigest: createHash('sha256').update(content).digest(), signerCertificate: tsa.certificate, contentType: OID.tstInfo });
  const signature = toDerEcdsaSignature(await hsm.signEcdsaSha256(TSA_KEY_LABEL, attrs.der));
  return assembleSignedData({
    attributes: attrs.attributes,
    signature,
    signerCertificate: tsa.certificate,
    // certReq false: the token names its certificate (signing-certificate-v2) without carrying it (RFC 3161 §2.4.1).
    chain: request.certReq ? tsa.chain : [],
    content: { type: OID.tstInfo, der: content },
    omitSignerCertificate: !request.certReq,
  });
}
