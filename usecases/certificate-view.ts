// A certificate as the verification report shows it (ours, another platform's, an SM2 one alike).
import { createHash, X509Certificate } from 'node:crypto';
import type { CertificateView } from './verification';

export function certificateView(cert: X509Certificate | Buffer): CertificateView {
  const c = Buffer.isBuffer(cert) ? new X509Certificate(cert) : cert;
  return {
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    serial: c.serialNumber.toLowerCase(),
    not_before: new Date(c.validFrom).toISOString(),
    not_after: new Date(c.validTo).toISOString(),
    fingerprint_sha256: createHash('sha256').update(c.raw).digest('hex'),
  };
}
