// Verifies a detached CMS signature (RFC 5652) over content this platform did not sign: a partner's batch
// (the market-regulation authority's registration data, A3). Accepted only when it is signed by one of the
// certificates the caller trusts (compared by SHA-256 of the DER, no chain building: the administrator lists
// the very certificate), valid now, with SHA-256 signed attributes whose message digest is the content's.
import { createHash, verify, X509Certificate } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from '../db';
import { OID, findSignerCertificate, parseSignedData } from './cms';

const RSA_WITH_SHA256 = '1.2.840.113549.1.1.11';
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';

export type DetachedSignatureCheck =
  | { ok: true; signerFingerprint: string }
  | { ok: false; reason: 'unreadable' | 'not_one_signer' | 'unknown_signer' | 'certificate_not_valid_now' | 'digest_mismatch' | 'bad_signature' | 'unsupported_algorithm' };

export const sha256Hex = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export function verifyDetachedSignature(content: Buffer, signatureDer: Buffer, trusted: ReadonlySet<string>, now = new Date()): DetachedSignatureCheck {
  let parsed;
  try {
    parsed = parseSignedData(signatureDer);
  } catch {
    return { ok: false, reason: 'unreadable' };
  }
  if (parsed.signers.length !== 1) return { ok: false, reason: 'not_one_signer' };
  const signer = parsed.signers[0];
  const certDer = findSignerCertificate(signer, parsed.certificates);
  if (!certDer || !trusted.has(sha256Hex(certDer))) return { ok: false, reason: 'unknown_signer' };
  const cert = new X509Certificate(certDer);
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return { ok: false, reason: 'certificate_not_valid_now' };
  if (signer.digestAlgorithm !== OID.sha256 || !signer.signedAttributesDer) return { ok: false, reason: 'unsupported_algorithm' };
  if (![OID.ecdsaWithSha256, RSA_WITH_SHA256, RSA_ENCRYPTION].includes(signer.signatureAlgorithm)) return { ok: false, reason: 'unsupported_algorithm' };
  const digest = createHash('sha256').update(content).digest();
  if (!signer.messageDigest || !signer.messageDigest.equals(digest)) return { ok: false, reason: 'digest_mismatch' };
  let good = false;
  try {
    good = verify('sha256', signer.signedAttributesDer, cert.publicKey, signer.signature);
  } catch {
    good = false;
  }
  return good ? { ok: true, signerFingerprint: sha256Hex(certDer) } : { ok: false, reason: 'bad_signature' };
}

/** The certificates whose registration batches (A3 exchange) are accepted now: listed by the administrator, active. */
export async function activeFeedCertificates(db: Db | Knex.Transaction): Promise<Set<string>> {
  return new Set(await db('registration_feed_certificates').where({ status: 'active' }).pluck('fingerprint'));
}
