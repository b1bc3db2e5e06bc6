// OCSP responder for seal certificates (RFC 6960), so relying parties can tell a live seal from a suspended
// or cancelled one (U1, M13): good, revoked (revocation time and reason), revoked with reason
// certificateHold while a seal is suspended, unknown for certificates of other issuers or serials the
// issuing CA never issued. Statuses and the signed answers to requests of the RFC 5019 form are cached
// (ocsp-cache.ts) and dropped when PostgreSQL notifies a change; every other request — a nonce, other
// extensions, a requestorName, a signature, several CertIDs — is answered too, but signed for itself and
// never stored (RFC 6960 §4.4.1: a nonce is echoed). The cache key is the one CertID, admitted only in
// its single DER encoding (cacheKeyOf), so padding a request cannot mint new entries: a seal has at most
// 8 (four hash algorithms × hash parameters NULL or absent). Unknown serials, and the platform's own
// certificates (no NOTIFY tells of them), are never cached, so a certificate issued later is found at once.
// Responses are signed in the HSM by the delegated responder key (ocsp-responder.ts), whose certificate
// travels in `certs`; responderID is byKey. answerOcsp never throws: an unparsable request gets
// malformedRequest, anything going wrong inside gets internalError.
// Requests are parsed and ResponseData (what is signed) is encoded with @peculiar/asn1-ocsp. The two
// envelopes around it (BasicOCSPResponse, OCSPResponse) only concatenate parts that are already DER —
// the signed bytes, the signature, the responder certificate as stored — so they are framed directly
// instead of being re-encoded by asn1-schema, which took most of a millisecond per response (the
// certificate alone about half). Their fixed parts come from asn1-ocsp at start-up, and the integration
// test checks that asn1-ocsp re-encodes every response to the same bytes.
import { createHash } from 'node:crypto';
import {
  CertID,
  CertStatus,
  KeyHash,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLReason, Extension, id_ce_invalidityDate, InvalidityDate } from '@peculiar/asn1-x509';
import type pg from 'pg';
import type { Db } from '../db';
import { toDerEcdsaSignature, type Hsm } from '../hsm/hsm';
import { crlReasonCode, DEFAULT_NEXT_UPDATE_HOURS, wholeSeconds } from './crl';
import { OcspStatusCache, type CachedStatus } from './ocsp-cache';
import * as x509 from './x509';
import { logger } from '../observability/logger';

/** Hash algorithms accepted in a CertID (RFC 6960 mandates SHA-1 support; SHA-2 is what newer clients send). */
export const CERT_ID_HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
/** More CertIDs than this in one request is treated as abuse rather than answered. */
export const MAX_REQUESTS_PER_OCSP_REQUEST = 100;
/** RFC 8954: nonces longer than 32 octets need not be echoed (the extension value adds a 2-byte header). */
export const MAX_NONCE_EXTENSION_BYTES = 34;
const CONTEXT_TTL_MS = 60_000;

export interface OcspOptions {
  /** nextUpdate of each SingleResponse = now + this (configuration `pki.crlNextUpdateHours`). */
  nextUpdateHours?: number;
  now?: Date;
}

const statusOnly = (status: OCSPResponseStatus) => Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: status })));
export const MALFORMED_REQUEST_RESPONSE = statusOnly(OCSPResponseStatus.malformedRequest);
export const INTERNAL_ERROR_RESPONSE = statusOnly(OCSPResponseStatus.internalError);

// ---------- DER framing of already-encoded parts ----------

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
/** tag ‖ length ‖ contents, for a constructed or primitive element whose contents are already DER. */
const tlv = (tag: number, ...contents: Buffer[]) => {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
};
const SEQUENCE = 0x30;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const CONTEXT_0 = 0xa0; // [0] EXPLICIT
/** ENUMERATED successful (the contents of `OCSPResponse { successful }` as asn1-ocsp encodes it). */
const SUCCESSFUL_DER = statusOnly(OCSPResponseStatus.successful).subarray(2);
/** OBJECT IDENTIFIER id-pkix-ocsp-basic, taken from asn1-ocsp's encoding of ResponseBytes. */
const BASIC_RESPONSE_TYPE_DER = (() => {
  const rb = Buffer.from(AsnConvert.serialize(new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(new Uint8Array(0)) })));
  return rb.subarray(2, rb.length - 2); // SEQUENCE { OID, OCTET STRING (empty) } → the OID element
})();
const SIGNATURE_ALGORITHM_DER = Buffer.from(AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 })));

// ---------- the responder's identity, cached per database ----------

interface ResponderContext {
  issuerName: Buffer; // DER of the issuing CA's subject
  issuerKey: Buffer; // the issuing CA's subjectPublicKey bits
  issuerHashes: Map<string, { name: Buffer; key: Buffer }>;
  keyLabel: string;
  /** `[0] EXPLICIT SEQUENCE OF Certificate` holding the responder certificate, as stored. */
  certsDer: Buffer;
  responderId: ResponderID;
}

const contexts = new WeakMap<Db, { expires: number; context: Promise<ResponderContext> }>();

async function loadContext(hsm: Hsm, db: Db): Promise<ResponderContext> {
  const [issuingRow, responderRow] = await Promise.all([
    db('ca_certificates').where({ purpose: 'issuing' }).orderBy('created_at', 'desc').first('der'),
    db('ca_certificates').where({ purpose: 'ocsp_responder' }).orderBy('created_at', 'desc').first('der', 'key_label'),
  ]);
  if (!issuingRow || !responderRow) throw new Error('No issuing CA or OCSP responder certificate in PostgreSQL: provision the platform PKI first.');
  const issuing = AsnConvert.parse(issuingRow.der as Buffer, Certificate);
  const certificate = AsnConvert.parse(responderRow.der as Buffer, Certificate);
  const issuerName = Buffer.from(AsnConvert.serialize(issuing.tbsCertificate.subject));
  if (!issuerName.equals(Buffer.from(AsnConvert.serialize(certificate.tbsCertificate.issuer)))) {
    throw new Error('the OCSP responder certificate was not issued by the current issuing CA: re-provision the platform PKI');
  }
  const responderSpki = Buffer.from(AsnConvert.serialize(certificate.tbsCertificate.subjectPublicKeyInfo));
  if (!responderSpki.equals(await hsm.publicKeySpki(responderRow.key_label))) {
    throw new Error(`HSM key "${responderRow.key_label}" does not match the OCSP responder certificate`);
  }
  const responderKeyBits = Buffer.from(certificate.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
  return {
    issuerName,
    issuerKey: Buffer.from(issuing.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey),
    issuerHashes: new Map(),
    keyLabel: responderRow.key_label,
    certsDer: tlv(CONTEXT_0, tlv(SEQUENCE, responderRow.der as Buffer)),
    responderId: new ResponderID({ byKey: new KeyHash(createHash('sha1').update(responderKeyBits).digest()) }),
  };
}

function responderContext(hsm: Hsm, db: Db): Promise<ResponderContext> {
  const cached = contexts.get(db);
  if (cached && cached.expires > Date.now()) return cached.context;
  const context = loadContext(hsm, db);
  contexts.set(db, { expires: Date.now() + CONTEXT_TTL_MS, context });
  context.catch(() => contexts.get(db)?.context === context && contexts.delete(db));
  return context;
}

/** Forgets the cached issuing CA and responder certificate (after re-provisioning). */
export function resetOcspResponderCache(db: Db): void {
  contexts.delete(db);
  caches.get(db)?.clear(); // responses carry the responder certificate
}

function issuerHashes(ctx: ResponderContext, hashName: string) {
  let h = ctx.issuerHashes.get(hashName);
  if (!h) {
    h = { name: createHash(hashName).update(ctx.issuerName).digest(), key: createHash(hashName).update(ctx.issuerKey).digest() };
    ctx.issuerHashes.set(hashName, h);
  }
  return h;
}

// ---------- the request ----------

export interface ParsedRequest {
  certIds: CertID[];
  nonce?: Extension;
}

/** The whole input must be one DER/BER TLV with a definite length (no trailing bytes). */
function isSingleTlv(der: Uint8Array): boolean {
  if (der.length < 2 || der[0] !== 0x30) return false;
  const first = der[1];
  if (first < 0x80) return 2 + first === der.length;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < 2 + n) return false;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i];
  return 2 + n + len === der.length;
}

/** Throws on anything that is not a usable OCSPRequest. */
export function parseRequest(der: Uint8Array): ParsedRequest {
  if (!isSingleTlv(der)) throw new Error('not a single DER SEQUENCE');
  const request = AsnConvert.parse(der, OCSPRequest);
  const list = request.tbsRequest.requestList;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_REQUESTS_PER_OCSP_REQUEST) {
    throw new Error(`requestList has ${list?.length ?? 0} entries`);
  }
  const certIds = list.map((r) => r.reqCert);
  for (const c of certIds) {
    if (!c?.hashAlgorithm?.algorithm || !c.issuerNameHash || !c.issuerKeyHash || !c.serialNumber?.byteLength) {
      throw new Error('incomplete CertID');
    }
  }
  const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  return { certIds, nonce };
}

/** DER of each CertID hash algorithm's OID, and its digest length. */
const CERT_ID_HASH_OIDS: Array<[oid: Buffer, digestBytes: number]> = [
  [Buffer.from('06052b0e03021a', 'hex'), 20], // sha1
  [Buffer.from('0609608648016503040201', 'hex'), 32], // sha256
  [Buffer.from('0609608648016503040202', 'hex'), 48], // sha384
  [Buffer.from('0609608648016503040203', 'hex'), 64], // sha512
];
const DER_NULL = Buffer.from([0x05, 0x00]);
/** RFC 5280 §4.1.2.2: at most 20 octets, plus one for a leading zero. */
const MAX_SERIAL_BYTES = 21;

interface Tlv {
  tag: number;
  start: number; // first content byte
  end: number; // one past the last
}
/** One TLV at `pos` within `end`, in DER only: definite, minimal length. */
function derTlv(b: Uint8Array, pos: number, end: number): Tlv | undefined {
  if (pos + 2 > end) return undefined;
  const tag = b[pos];
  const first = b[pos + 1];
  let len = first;
  let start = pos + 2;
  if (first >= 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 3 || start + n > end || b[start] === 0) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i];
    if (len < 0x80 || (n > 1 && len < 256 ** (n - 1))) return undefined;
    start += n;
  }
  return start + len > end ? undefined : { tag, start, end: start + len };
}
/** The contents of a TLV that are exactly one TLV with this tag. */
function onlyChild(b: Uint8Array, parent: Tlv, tag: number): Tlv | undefined {
  const child = derTlv(b, parent.start, parent.end);
  return child && child.tag === tag && child.end === parent.end ? child : undefined;
}

/**
 * The cache key of a request in the RFC 5019 form — exactly one CertID, no version, requestorName,
 * extensions (request or single) or signature, everything in DER — or undefined for any other request.
 * The key is the CertID's bytes; the form admits one encoding of each CertID, so the key is normalised.
 */
export function cacheKeyOf(der: Uint8Array): string | undefined {
  const SEQ = 0x30;
  const top = derTlv(der, 0, der.length);
  if (!top || top.tag !== SEQ || top.end !== der.length) return undefined;
  const tbs = onlyChild(der, top, SEQ);
  const list = tbs && onlyChild(der, tbs, SEQ);
  const single = list && onlyChild(der, list, SEQ);
  const certId = single && onlyChild(der, single, SEQ);
  if (!certId) return undefined;
  const alg = derTlv(der, certId.start, certId.end);
  const oid = alg?.tag === SEQ ? derTlv(der, alg.start, alg.end) : undefined;
  if (!alg || oid?.tag !== 0x06) return undefined;
  const oidDer = der.subarray(alg.start, oid.end);
  const digestBytes = CERT_ID_HASH_OIDS.find(([o]) => o.equals(oidDer))?.[1];
  const params = der.subarray(oid.end, alg.end);
  if (digestBytes === undefined || !(params.length === 0 || DER_NULL.equals(params))) return undefined;
  const nameHash = derTlv(der, alg.end, certId.end);
  const keyHash = nameHash && derTlv(der, nameHash.end, certId.end);
  const serial = keyHash && derTlv(der, keyHash.end, certId.end);
  if (!serial || serial.end !== certId.end || nameHash!.tag !== OCTET_STRING || keyHash!.tag !== OCTET_STRING || serial.tag !== 0x02) return undefined;
  if (nameHash!.end - nameHash!.start !== digestBytes || keyHash!.end - keyHash!.start !== digestBytes) return undefined;
  const serialLength = serial.end - serial.start;
  const [s0, s1] = [der[serial.start], der[serial.start + 1]];
  // Positive and minimal: a serial is never negative, and a redundant leading zero would be a second key.
  if (serialLength === 0 || serialLength > MAX_SERIAL_BYTES || s0 >= 0x80 || (s0 === 0 && serialLength > 1 && s1 < 0x80)) return undefined;
  return Buffer.from(der.buffer, der.byteOffset + certId.start, certId.end - certId.start).toString('latin1');
}

/** Serial as stored in `seals.certificate_serial` (@peculiar/x509's hex: no leading zero bytes). */
export function serialHex(bytes: ArrayBuffer | Uint8Array): string {
  let b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

// ---------- status ----------

/** `platform`: one of the platform's own certificates, which no NOTIFY covers, so never cached. */
export type SealStatus = CachedStatus & { platform?: true };

const caches = new WeakMap<Db, OcspStatusCache>();

function cacheFor(db: Db): OcspStatusCache {
  let cache = caches.get(db);
  if (!cache) {
    cache = new OcspStatusCache(db.client.config.connection as pg.ClientConfig);
    caches.set(db, cache);
  }
  return cache;
}

/** Stops listening for status changes (before the database is destroyed). */
export async function stopOcspCache(db: Db): Promise<void> {
  const cache = caches.get(db);
  caches.delete(db);
  await cache?.stop();
}

/** What this process's responder keeps for this database (bounded; /metrics shows it). None before its first answer. */
export function ocspCacheSize(db: Db): { statuses: number; responses: number } {
  return caches.get(db)?.size ?? { statuses: 0, responses: 0 };
}

/** Statuses from the cache, the rest from PostgreSQL (then cached, unless a change was heard meanwhile). */
async function statusesOf(db: Db, serials: string[]): Promise<Map<string, SealStatus>> {
  const cache = cacheFor(db);
  const found = new Map<string, SealStatus>();
  const missing: string[] = [];
  for (const s of serials) {
    const hit = cache.status(s);
    if (hit) found.set(s, hit);
    else missing.push(s);
  }
  if (missing.length === 0) return found;
  const mark = cache.mark();
  for (const [s, status] of await lookUpStatuses(db, missing)) {
    found.set(s, status);
    if (!status.platform) cache.storeStatus(s, status, mark);
  }
  return found;
}

async function lookUpStatuses(db: Db, serials: string[]): Promise<Map<string, SealStatus>> {
  const found = new Map<string, SealStatus>();
  if (serials.length === 0) return found;
  // Plain SQL: the query builder's per-call work was a visible share of a response.
  const { rows } = await db.raw(
    'select certificate_serial, revoked_at, revocation_reason, hold_since, invalidity_date from seals where certificate_serial = any(?::text[])',
    [serials],
  );
  for (const r of rows as Array<{ certificate_serial: string; revoked_at: Date | null; revocation_reason: string | null; hold_since: Date | null; invalidity_date: Date | null }>) {
    const status: SealStatus = r.revoked_at
      ? { revokedAt: new Date(r.revoked_at), reason: r.revocation_reason ?? 'unspecified', ...(r.invalidity_date ? { invalidityDate: new Date(r.invalidity_date) } : {}) }
      : r.hold_since
        ? { revokedAt: new Date(r.hold_since), reason: 'certificateHold' }
        : {};
    // A serial is one certificate; should two rows ever share one, a revoked state wins.
    if (!found.get(r.certificate_serial)?.revokedAt) found.set(r.certificate_serial, status);
  }
  // The platform's own end-entity certificates (signing, OCSP responder) are issued by the same CA.
  const missing = serials.filter((s) => !found.has(s));
  if (missing.length > 0) {
    const own = await db('ca_certificates').whereIn('serial', missing).whereIn('purpose', ['platform_signing', 'ocsp_responder']).select('serial');
    for (const r of own) found.set(r.serial, { platform: true });
  }
  return found;
}

export function certStatus(status: SealStatus | undefined): CertStatus {
  if (!status) return new CertStatus({ unknown: null });
  if (!status.revokedAt) return new CertStatus({ good: null });
  const code = crlReasonCode(status.reason);
  return new CertStatus({
    revoked: new RevokedInfo({
      revocationTime: wholeSeconds(status.revokedAt),
      ...(code === x509.X509CrlReason.unspecified ? {} : { revocationReason: new CRLReason(code as number) }),
    }),
  });
}

/** M13: a keyCompromise revocation carries its invalidity date (RFC 6960 §4.4 allows CRL entry extensions). */
export function invalidityExtensions(status: SealStatus | undefined): Extension[] | undefined {
  if (!status?.revokedAt || !status.invalidityDate) return undefined;
  const value = AsnConvert.serialize(new InvalidityDate(wholeSeconds(status.invalidityDate)));
  return [new Extension({ extnID: id_ce_invalidityDate, critical: false, extnValue: new OctetString(value) })];
}

// ---------- the response ----------

async function respond(hsm: Hsm, db: Db, request: ParsedRequest, opts: OcspOptions, cacheKey: string | undefined): Promise<Buffer> {
  const ctx = await responderContext(hsm, db);
  const mark = cacheFor(db).mark();
  const ours = request.certIds.map((id) => {
    const hashName = CERT_ID_HASHES[id.hashAlgorithm.algorithm];
    if (!hashName) return undefined;
    const h = issuerHashes(ctx, hashName);
    return h.name.equals(Buffer.from(id.issuerNameHash.buffer)) && h.key.equals(Buffer.from(id.issuerKeyHash.buffer))
      ? serialHex(id.serialNumber)
      : undefined;
  });
  const serials = [...new Set(ours.filter((s): s is string => !!s))];
  const statuses = await statusesOf(db, serials);

  const now = wholeSeconds(opts.now ?? new Date());
  const nextUpdate = new Date(now.getTime() + (opts.nextUpdateHours ?? DEFAULT_NEXT_UPDATE_HOURS) * 3_600_000);
  const responseExtensions =
    request.nonce && request.nonce.extnValue.byteLength <= MAX_NONCE_EXTENSION_BYTES
      ? [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(request.nonce.extnValue.buffer) })]
      : undefined;
  const tbsResponseData = new ResponseData({
    responderID: ctx.responderId,
    producedAt: now,
    responses: request.certIds.map(
      (certID, i) =>
        new SingleResponse({
          certID,
          certStatus: certStatus(ours[i] === undefined ? undefined : statuses.get(ours[i]!)),
          thisUpdate: now,
          nextUpdate,
          singleExtensions: invalidityExtensions(ours[i] === undefined ? undefined : statuses.get(ours[i]!)),
        }),
    ),
    responseExtensions,
  });
  const tbs = Buffer.from(AsnConvert.serialize(tbsResponseData));
  const signature = toDerEcdsaSignature(await hsm.signEcdsaSha256(ctx.keyLabel, tbs));
  // BasicOCSPResponse { tbsResponseData, signatureAlgorithm, signature BIT STRING, certs [0] }
  const basic = tlv(SEQUENCE, tbs, SIGNATURE_ALGORITHM_DER, tlv(BIT_STRING, Buffer.from([0]), signature), ctx.certsDer);
  // OCSPResponse { successful, responseBytes [0] EXPLICIT ResponseBytes { id-pkix-ocsp-basic, OCTET STRING } }
  const der = tlv(SEQUENCE, SUCCESSFUL_DER, tlv(CONTEXT_0, tlv(SEQUENCE, BASIC_RESPONSE_TYPE_DER, tlv(OCTET_STRING, basic))));
  // Pre-produced for the next relying party asking the same (RFC 5019): refreshed halfway to nextUpdate.
  // cacheKey is set only for the one-CertID form; a status read elsewhere (platform, unknown) is not kept.
  const status = ours[0] === undefined ? undefined : statuses.get(ours[0]);
  if (cacheKey !== undefined && request.certIds.length === 1 && !request.nonce && status && !status.platform) {
    const refreshAt = now.getTime() + (nextUpdate.getTime() - now.getTime()) / 2;
    cacheFor(db).storeResponse(cacheKey, { der, serial: ours[0]!, refreshAt }, mark);
  }
  return der;
}

/**
 * Answers a DER OCSPRequest with a DER OCSPResponse (RFC 6960). Never throws: a request that cannot be
 * parsed gets malformedRequest, a failure inside (database, HSM) internalError.
 */
export async function answerOcsp(hsm: Hsm, db: Db, requestDer: Uint8Array, opts: OcspOptions = {}): Promise<Buffer> {
  // Found without asn1-schema (a hit is cheaper than parsing); only the RFC 5019 form has a key. A fixed
  // `now` (tests) bypasses the cache.
  const cacheKey = opts.now ? undefined : cacheKeyOf(requestDer);
  const hit = cacheKey === undefined ? undefined : cacheFor(db).response(cacheKey, Date.now());
  if (hit) return hit;
  let request: ParsedRequest;
  try {
    request = parseRequest(requestDer);
  } catch {
    return MALFORMED_REQUEST_RESPONSE;
  }
  try {
    return await respond(hsm, db, request, opts, cacheKey);
  } catch (e) {
    logger.error({ err: e }, 'OCSP responder failed');
    return INTERNAL_ERROR_RESPONSE;
  }
}
