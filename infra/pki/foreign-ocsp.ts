// OCSP (RFC 6960) of other platforms (I2): the verification service asks a listed platform's responder about
// one of its filed seals' certificates, at the address on the trust list (never the one in the certificate:
// that is hostile input, and asking it would let a signer make this server fetch any address). The answer
// is hostile input too: kept only when signed by the certificate's issuer or by a responder the issuer
// delegated (id-kp-OCSPSigning), when it names this certificate and is current; cached until its nextUpdate
// in `foreign_ocsp_responses`, so a burst of verifications asks once. A failed request returns null (the
// caller falls back to the platform's CRL).
import { createHash } from 'node:crypto';
import { BasicOCSPResponse, OCSPResponse, OCSPResponseStatus, id_pkix_ocsp_basic } from '@peculiar/asn1-ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityInfoAccessSyntax, Certificate, ExtendedKeyUsage, id_ad_ocsp, id_ce_extKeyUsage, id_pe_authorityInfoAccess } from '@peculiar/asn1-x509';
import type { Db } from '../db';
import { issuedBy, signedByCertificate } from './foreign';
import { CERT_ID_HASHES, serialHex } from './ocsp';
import { ocspRequestDer } from './ocsp-request';

/** An OCSP answer for one certificate is a few kilobytes. */
export const FOREIGN_OCSP_MAX_BYTES = 64 * 1024;
const FETCH_TIMEOUT_MS = 5_000;
/** An answer without nextUpdate (RFC 6960 §4.2.2.1: newer information is always available) is kept this long. */
const NO_NEXT_UPDATE_TTL_MS = 5 * 60_000;
/** Clocks differ: an answer made up to this far in the future is still taken. */
const CLOCK_SKEW_MS = 5 * 60_000;
const ID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

export interface ForeignOcspStatus {
  status: 'good' | 'revoked' | 'unknown';
  revokedAt: Date | null;
  thisUpdate: Date;
  nextUpdate: Date | null;
}

/** The OCSP addresses the certificate's Authority Information Access names (empty when none or unreadable). */
export function ocspAddressesOf(certificateDer: Buffer): string[] {
  try {
    const cert = AsnConvert.parse(certificateDer, Certificate);
    const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_pe_authorityInfoAccess);
    if (!ext) return [];
    const aia = AsnConvert.parse(ext.extnValue, AuthorityInfoAccessSyntax);
    return aia.filter((a) => a.accessMethod === id_ad_ocsp && a.accessLocation.uniformResourceIdentifier).map((a) => a.accessLocation.uniformResourceIdentifier!);
  } catch {
    return [];
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Reads and checks a responder's answer about `certificateDer`; throws a plain Error when it is not usable. */
export function readOcspAnswer(der: Buffer, certificateDer: Buffer, issuerDer: Buffer, now: Date): ForeignOcspStatus & { basicDer: Buffer } {
  const response = AsnConvert.parse(der, OCSPResponse);
  if (response.responseStatus !== OCSPResponseStatus.successful) throw new Error(`the responder answered ${OCSPResponseStatus[response.responseStatus] ?? response.responseStatus}`);
  if (!response.responseBytes || response.responseBytes.responseType !== id_pkix_ocsp_basic) throw new Error('the answer is not a basic OCSP response');
  const basicDer = Buffer.from(response.responseBytes.response.buffer);
  const basic = AsnConvert.parse(basicDer, BasicOCSPResponse);
  const tbs = Buffer.from(basic.tbsResponseDataRaw ?? AsnConvert.serialize(basic.tbsResponseData));
  const alg = basic.signatureAlgorithm.algorithm;
  const signature = Buffer.from(basic.signature);
  // The issuer itself, or a responder certificate in the answer that the issuer issued for OCSP signing.
  const delegated = (basic.certs ?? []).map((c) => Buffer.from(AsnConvert.serialize(c))).filter((c) => isOcspSigner(c) && issuedBy(c, issuerDer));
  if (![issuerDer, ...delegated].some((s) => signedByCertificate(alg, tbs, signature, s))) throw new Error('the answer is not signed by the issuer or a responder it delegated');

  const cert = AsnConvert.parse(certificateDer, Certificate);
  const issuer = AsnConvert.parse(issuerDer, Certificate);
  const serial = serialHex(cert.tbsCertificate.serialNumber);
  const single = basic.tbsResponseData.responses.find((r) => {
    const hash = CERT_ID_HASHES[r.certID.hashAlgorithm.algorithm];
    if (!hash || serialHex(r.certID.serialNumber) !== serial) return false;
    const keyHash = createHash(hash).update(Buffer.from(issuer.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)).digest();
    const nameHash = createHash(hash).update(Buffer.from(AsnConvert.serialize(issuer.tbsCertificate.subject))).digest();
    return keyHash.equals(Buffer.from(r.certID.issuerKeyHash.buffer)) && nameHash.equals(Buffer.from(r.certID.issuerNameHash.buffer));
  });
  if (!single) throw new Error('the answer does not name the certificate asked about');
  const thisUpdate = single.thisUpdate;
  const nextUpdate = single.nextUpdate ?? null;
  if (thisUpdate.getTime() > now.getTime() + CLOCK_SKEW_MS) throw new Error('the answer is dated in the future');
  if (nextUpdate && nextUpdate <= now) throw new Error('the answer is out of date (nextUpdate passed)');
  const s = single.certStatus;
  const status = s.revoked ? 'revoked' : s.good !== undefined ? 'good' : 'unknown';
  return { status, revokedAt: s.revoked ? s.revoked.revocationTime : null, thisUpdate, nextUpdate, basicDer };
}

function isOcspSigner(der: Buffer): boolean {
  try {
    const ext = AsnConvert.parse(der, Certificate).tbsCertificate.extensions?.find((e) => e.extnID === id_ce_extKeyUsage);
    return !!ext && AsnConvert.parse(ext.extnValue, ExtendedKeyUsage).includes(ID_KP_OCSP_SIGNING);
  } catch {
    return false;
  }
}

async function ask(url: string, request: Buffer): Promise<Buffer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: request, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  if (Number(res.headers.get('content-length') ?? 0) > FOREIGN_OCSP_MAX_BYTES) throw new Error(`the answer is larger than ${FOREIGN_OCSP_MAX_BYTES} bytes`);
  const body = Buffer.from(await res.arrayBuffer());
  if (body.length > FOREIGN_OCSP_MAX_BYTES) throw new Error(`the answer is larger than ${FOREIGN_OCSP_MAX_BYTES} bytes`);
  return body;
}

const isCurrent = (r: { nextUpdate: Date | null; fetchedAt: Date }, now: Date) => (r.nextUpdate ? r.nextUpdate > now : now.getTime() - r.fetchedAt.getTime() < NO_NEXT_UPDATE_TTL_MS);

/**
 * The platform responder's current answer about `certificate` (issued by `issuer`): the cached one while
 * current, else asked now (5 s at most) and cached. `{ status: null, error }` when none can be had.
 */
export async function foreignOcspStatus(db: Db, q: { platformId: string; url: string; certificate: Buffer; issuer: Buffer; now: Date }): Promise<{ status: ForeignOcspStatus | null; error: string | null }> {
  const key = { platform_id: q.platformId, certificate_sha256: sha256(q.certificate) };
  const row = await db('foreign_ocsp_responses').where(key).first('status', 'revoked_at', 'this_update', 'next_update', 'fetched_at');
  if (row) {
    const cached = { status: row.status, revokedAt: row.revoked_at ? new Date(row.revoked_at) : null, thisUpdate: new Date(row.this_update), nextUpdate: row.next_update ? new Date(row.next_update) : null };
    if (isCurrent({ nextUpdate: cached.nextUpdate, fetchedAt: new Date(row.fetched_at) }, q.now)) return { status: cached, error: null };
  }
  try {
    const answer = readOcspAnswer(await ask(q.url, ocspRequestDer(q.certificate, q.issuer)), q.certificate, q.issuer, q.now);
    const stored = { ...key, status: answer.status, revoked_at: answer.revokedAt, this_update: answer.thisUpdate, next_update: answer.nextUpdate, fetched_at: q.now, der: answer.basicDer };
    // Never replace a newer answer by an older one (two requests racing, or a replayed answer).
    await db('foreign_ocsp_responses').insert(stored).onConflict(['platform_id', 'certificate_sha256']).merge().where('foreign_ocsp_responses.this_update', '<=', answer.thisUpdate);
    return { status: { status: answer.status, revokedAt: answer.revokedAt, thisUpdate: answer.thisUpdate, nextUpdate: answer.nextUpdate }, error: null };
  } catch (e) {
    return { status: null, error: (e as Error).message.slice(0, 500) };
  }
}
