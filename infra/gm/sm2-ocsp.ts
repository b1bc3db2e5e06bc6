// OCSP (RFC 6960) for the SM2 chain's certificates (issue 13), answered by the web at /pki/sm2/ocsp beside the
// ECDSA responder (../pki/ocsp.ts): good, revoked (time, reason, invalidity date) or revoked certificateHold
// while the seal is suspended — the seal's one status, as its ECDSA certificate shows it — and unknown for
// other issuers and serials never issued. The responses are signed SM2/SM3 by the delegated SM2 responder
// key, which is wrapped under the web token's SM2 wrapping key (M4: the web holds only its own token, so it
// can use this key and no CA or seal key). The answers are not cached: NOTIFY ocsp_status names a seal's
// ECDSA serial only, so a cached SM2 answer could outlive a change.
import { createHash } from 'node:crypto';
import {
  BasicOCSPResponse,
  KeyHash,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  SingleResponse,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, Extension } from '@peculiar/asn1-x509';
import type { Db } from '../db';
import type { Hsm } from '../hsm/hsm';
import { Sm2Module } from '../hsm/sm2-module';
import { DEFAULT_NEXT_UPDATE_HOURS, wholeSeconds } from '../pki/crl';
import {
  CERT_ID_HASHES,
  INTERNAL_ERROR_RESPONSE,
  MALFORMED_REQUEST_RESPONSE,
  MAX_NONCE_EXTENSION_BYTES,
  certStatus,
  invalidityExtensions,
  parseRequest,
  serialHex,
  type OcspOptions,
  type ParsedRequest,
  type SealStatus,
} from '../pki/ocsp';
import { logger } from '../observability/logger';
import { OID_SM2_WITH_SM3 } from './sm2';
import { loadSm2CaKey } from './sm2-ca';

/** The statuses of SM2 seal certificates by serial (the seal's revocation and hold data, as for ECDSA). */
async function sm2Statuses(db: Db, serials: string[]): Promise<Map<string, SealStatus>> {
  const found = new Map<string, SealStatus>();
  if (serials.length === 0) return found;
  const rows = await db('seal_national as n')
    .join('seals as s', 's.id', 'n.seal_id')
    .whereIn('n.certificate_serial', serials)
    .select('n.certificate_serial', 's.revoked_at', 's.revocation_reason', 's.hold_since', 's.invalidity_date');
  for (const r of rows) {
    found.set(
      r.certificate_serial,
      r.revoked_at
        ? { revokedAt: new Date(r.revoked_at), reason: r.revocation_reason ?? 'unspecified', ...(r.invalidity_date ? { invalidityDate: new Date(r.invalidity_date) } : {}) }
        : r.hold_since
          ? { revokedAt: new Date(r.hold_since), reason: 'certificateHold' }
          : {},
    );
  }
  // The SM2 responder's own certificate (ocsp-nocheck, but a client may still ask) is good.
  const responder = await loadSm2CaKey(db, 'ocsp_responder');
  if (responder) {
    const serial = serialHex(AsnConvert.parse(responder.certificate, Certificate).tbsCertificate.serialNumber);
    if (serials.includes(serial)) found.set(serial, {});
  }
  return found;
}

async function respond(web: Hsm, db: Db, request: ParsedRequest, opts: OcspOptions): Promise<Buffer> {
  const [issuing, responder] = await Promise.all([loadSm2CaKey(db, 'issuing'), loadSm2CaKey(db, 'ocsp_responder')]);
  if (!issuing || !responder) throw new Error('No SM2 issuing CA or SM2 OCSP responder in PostgreSQL: provision the platform PKI with pki.algorithmSuite gm or both');
  const issuingCert = AsnConvert.parse(issuing.certificate, Certificate);
  const issuerName = Buffer.from(AsnConvert.serialize(issuingCert.tbsCertificate.subject));
  const issuerKey = Buffer.from(issuingCert.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
  const ours = request.certIds.map((id) => {
    const hash = CERT_ID_HASHES[id.hashAlgorithm.algorithm];
    if (!hash) return undefined;
    const nameOk = createHash(hash).update(issuerName).digest().equals(Buffer.from(id.issuerNameHash.buffer));
    const keyOk = createHash(hash).update(issuerKey).digest().equals(Buffer.from(id.issuerKeyHash.buffer));
    return nameOk && keyOk ? serialHex(id.serialNumber) : undefined;
  });
  const statuses = await sm2Statuses(db, [...new Set(ours.filter((s): s is string => !!s))]);
  const statusOf = (i: number) => (ours[i] === undefined ? undefined : statuses.get(ours[i]!));

  const now = wholeSeconds(opts.now ?? new Date());
  const nextUpdate = new Date(now.getTime() + (opts.nextUpdateHours ?? DEFAULT_NEXT_UPDATE_HOURS) * 3_600_000);
  const responderCert = AsnConvert.parse(responder.certificate, Certificate);
  const responderKeyBits = Buffer.from(responderCert.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
  const tbsResponseData = new ResponseData({
    responderID: new ResponderID({ byKey: new KeyHash(createHash('sha1').update(responderKeyBits).digest()) }),
    producedAt: now,
    responses: request.certIds.map((certID, i) => new SingleResponse({ certID, certStatus: certStatus(statusOf(i)), thisUpdate: now, nextUpdate, singleExtensions: invalidityExtensions(statusOf(i)) })),
    responseExtensions:
      request.nonce && request.nonce.extnValue.byteLength <= MAX_NONCE_EXTENSION_BYTES
        ? [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(request.nonce.extnValue.buffer) })]
        : undefined,
  });
  const tbs = Buffer.from(AsnConvert.serialize(tbsResponseData));
  const signature = await new Sm2Module(web).sign(responder.key, tbs);
  const basic = new BasicOCSPResponse({
    tbsResponseData,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SM2_WITH_SM3 }),
    signature: new Uint8Array(signature).buffer,
    certs: [responderCert],
  });
  return Buffer.from(
    AsnConvert.serialize(
      new OCSPResponse({
        responseStatus: OCSPResponseStatus.successful,
        responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
      }),
    ),
  );
}

/** Answers a DER OCSPRequest about SM2 certificates. Never throws: OCSP errors are OCSP responses. */
export async function answerSm2Ocsp(web: Hsm, db: Db, requestDer: Uint8Array, opts: OcspOptions = {}): Promise<Buffer> {
  let request: ParsedRequest;
  try {
    request = parseRequest(requestDer);
  } catch {
    return MALFORMED_REQUEST_RESPONSE;
  }
  try {
    return await respond(web, db, request, opts);
  } catch (e) {
    logger.error({ err: e }, 'SM2 OCSP responder failed');
    return INTERNAL_ERROR_RESPONSE;
  }
}
