// The conclusion of a signature's validation in the terms of ETSI EN 319 102-1 (5.1.3, table 5): an
// indication and a sub-indication from what the validation found. Pure: the checks are made by the
// use-case (usecases/verification.ts) with the platform root as the only trust anchor and the platform's
// own revocation data and use register.

export type Indication = 'TOTAL-PASSED' | 'TOTAL-FAILED' | 'INDETERMINATE';
export type SubIndication =
  | 'FORMAT_FAILURE'
  | 'HASH_FAILURE'
  | 'SIG_CRYPTO_FAILURE'
  | 'REVOKED'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'NO_SIGNING_CERTIFICATE_FOUND'
  | 'NO_CERTIFICATE_CHAIN_FOUND'
  | 'REVOKED_NO_POE'
  | 'OUT_OF_BOUNDS_NO_POE'
  | 'TRY_LATER';

export const SUB_INDICATIONS: readonly SubIndication[] = [
  'FORMAT_FAILURE', 'HASH_FAILURE', 'SIG_CRYPTO_FAILURE', 'REVOKED', 'EXPIRED', 'NOT_YET_VALID', 'NO_SIGNING_CERTIFICATE_FOUND',
  'NO_CERTIFICATE_CHAIN_FOUND', 'REVOKED_NO_POE', 'OUT_OF_BOUNDS_NO_POE', 'TRY_LATER',
];

export type CertificateStatus = 'good' | 'revoked' | 'on_hold' | 'unknown';

/** The indication in plain words, as the verification page and the signed report PDF say it. */
export const INDICATION_LABELS: Readonly<Record<Indication, { zh: string; en: string }>> = {
  'TOTAL-PASSED': { zh: '验证通过', en: 'Valid' },
  'TOTAL-FAILED': { zh: '验证失败', en: 'Invalid' },
  INDETERMINATE: { zh: '无法确定', en: 'Indeterminate' },
};

export const CERTIFICATE_STATUS_LABELS: Readonly<Record<CertificateStatus, { zh: string; en: string }>> = {
  good: { zh: '有效', en: 'good' },
  revoked: { zh: '已吊销', en: 'revoked' },
  on_hold: { zh: '已挂起（印章暂停使用）', en: 'on hold (seal suspended)' },
  unknown: { zh: '未知', en: 'unknown' },
};

export interface ValidationFindings {
  /** The CMS parsed and is of the expected form (detached SignedData, one signer, signed attributes). */
  formatOk: boolean;
  /** message-digest equals the SHA-256 of what the signature covers. */
  digestOk: boolean;
  /** The signature value verifies with the signer certificate's public key. */
  signatureOk: boolean;
  /** The signer's certificate was found and signing-certificate-v2 names it. */
  signingCertificateOk: boolean;
  /** The certificate chains to the platform root. */
  chainOk: boolean;
  /** The platform's own proof of the signing time (the use register entry), if any. */
  poe: Date | null;
  /** The time the signature claims (signing-time or the PDF's /M): not a proof. */
  claimedTime: Date | null;
  certificate: { notBefore: Date; notAfter: Date };
  /** From the platform's revocation data (the seal's row: revocation and hold). */
  revokedAt: Date | null;
  holdSince: Date | null;
  now: Date;
}

export interface Conclusion {
  indication: Indication;
  subIndication: SubIndication | null;
  statusAtSigningTime: CertificateStatus;
  statusNow: CertificateStatus;
}

export function certificateStatusAt(f: Pick<ValidationFindings, 'revokedAt' | 'holdSince'>, at: Date): CertificateStatus {
  if (f.revokedAt && f.revokedAt <= at) return 'revoked';
  if (f.holdSince && f.holdSince <= at) return 'on_hold';
  return 'good';
}

/**
 * Format, then the cryptographic checks (a broken signature fails whatever else is true), then the
 * identification of the signing certificate and its chain, then its validity and status at the time of
 * signing, proven (POE) by the use register or not at all.
 */
export function conclude(f: ValidationFindings): Conclusion {
  const statusNow = certificateStatusAt(f, f.now);
  const at = f.poe ?? f.claimedTime ?? f.now;
  const statusAtSigningTime: CertificateStatus = !f.signingCertificateOk ? 'unknown' : certificateStatusAt(f, at);
  const out = (indication: Indication, subIndication: SubIndication | null): Conclusion => ({ indication, subIndication, statusAtSigningTime, statusNow });
  if (!f.formatOk) return out('TOTAL-FAILED', 'FORMAT_FAILURE');
  if (!f.signingCertificateOk) return out('INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND');
  if (!f.digestOk) return out('TOTAL-FAILED', 'HASH_FAILURE');
  if (!f.signatureOk) return out('TOTAL-FAILED', 'SIG_CRYPTO_FAILURE');
  if (!f.chainOk) return out('INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND');
  if (f.poe) {
    // Proven signing time: judged at that time.
    if (f.poe < f.certificate.notBefore) return out('TOTAL-FAILED', 'NOT_YET_VALID');
    if (f.poe > f.certificate.notAfter) return out('TOTAL-FAILED', 'EXPIRED');
    if (statusAtSigningTime === 'revoked') return out('TOTAL-FAILED', 'REVOKED');
    if (statusAtSigningTime === 'on_hold') return out('INDETERMINATE', 'TRY_LATER');
    return out('TOTAL-PASSED', null);
  }
  // No proof of when it was signed: the certificate must be good now.
  if (f.now < f.certificate.notBefore || f.now > f.certificate.notAfter) return out('INDETERMINATE', 'OUT_OF_BOUNDS_NO_POE');
  // The signature's own claim of its time is no proof that it was made before a revocation, but a claim of
  // a later second (revocation times and claims are often whole seconds: the same second proves nothing)
  // is the signer's own word that it was made with a revoked certificate.
  if (statusNow === 'revoked') {
    const second = (d: Date) => Math.floor(d.getTime() / 1000);
    return f.claimedTime && second(f.revokedAt!) < second(f.claimedTime) ? out('TOTAL-FAILED', 'REVOKED') : out('INDETERMINATE', 'REVOKED_NO_POE');
  }
  if (statusNow === 'on_hold') return out('INDETERMINATE', 'TRY_LATER');
  return out('TOTAL-PASSED', null);
}
