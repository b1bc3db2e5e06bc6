// The delegated OCSP responder (RFC 6960 §4.2.2.2): its own P-256 key in the HSM and a certificate from
// the issuing CA with id-kp-OCSPSigning, so the issuing CA key signs only certificates and CRLs.
// id-pkix-ocsp-nocheck tells relying parties not to check the responder certificate's own status; the
// certificate is therefore short-lived (one year) and re-issued at start-up well before it expires.
import path from 'node:path';
import { id_kp_OCSPSigning, id_pkix_ocsp_nocheck } from '@peculiar/asn1-ocsp';
import * as x509 from './x509';
import type { Hsm } from '../hsm/hsm';
import { afterDays, ensureKeyCertificate, type KeyCertificate } from './key-certificate';

export const OCSP_RESPONDER_KEY_LABEL = 'eseal-ocsp-responder';
export const OCSP_RESPONDER_CN = '北京市电子印章管理服务平台OCSP响应服务';
/** ocsp-nocheck's value is NULL (RFC 6960 §4.2.2.2.1). */
const DER_NULL = new Uint8Array([0x05, 0x00]);

export type OcspResponderCertificate = KeyCertificate;

/**
 * Ensures the responder key `eseal-ocsp-responder` in `hsm` (M4: the web token; `issuerHsm` holds the issuing
 * CA key that certifies it) and a valid certificate for it in
 * `<dataDir>/pki/ocsp-responder.pem` (reused when it still matches the key and the issuing CA, is for
 * OCSP signing with ocsp-nocheck, and has more than 30 days left).
 */
export function ensureOcspResponderCertificate(hsm: Hsm, opts: { dataDir: string; issuingDer: Buffer; issuerHsm?: Hsm; now?: Date }): Promise<OcspResponderCertificate> {
  return ensureKeyCertificate(hsm, {
    issuerHsm: opts.issuerHsm,
    keyLabel: OCSP_RESPONDER_KEY_LABEL,
    file: path.join(path.resolve(opts.dataDir, 'pki'), 'ocsp-responder.pem'),
    issuingDer: opts.issuingDer,
    commonName: OCSP_RESPONDER_CN,
    notAfter: afterDays(365),
    renewBeforeDays: 30,
    keyUsages: x509.KeyUsageFlags.digitalSignature,
    extensions: [new x509.ExtendedKeyUsageExtension([id_kp_OCSPSigning], false), new x509.Extension(id_pkix_ocsp_nocheck, false, DER_NULL)],
    accept: (cert) => !!cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages.includes(id_kp_OCSPSigning) && !!cert.getExtension(id_pkix_ocsp_nocheck),
    now: opts.now,
  });
}
