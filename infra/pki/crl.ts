// The issuing CA's certificate revocation list (RFC 5280 §5, v2), signed in the HSM by the issuing CA key.
// Every seal certificate that is revoked (cancelled, replaced, …: `seals.revoked_at`, reason from
// `revocation_reason`) or on hold (suspended: `seals.hold_since`, reason certificateHold) is listed. Each
// CRL gets the next CRL number under a PostgreSQL advisory lock, so numbers strictly increase and a higher
// number never reflects an older state of the seals; every CRL issued is kept in `crls`.
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import * as x509 from './x509';
import type { Db } from '../db';
import type { Hsm } from '../hsm/hsm';
import { ISSUING_CA_KEY_LABEL } from './ca';
import { hsmCrypto, hsmSigningKey } from './hsm-crypto';

export const DEFAULT_NEXT_UPDATE_HOURS = 24;
/** pg_advisory_xact_lock key shared by every process that issues CRLs. */
const CRL_LOCK_KEY = createHash('sha256').update('eseal:crl-number').digest().readInt32BE(0);

export interface CrlRecord {
  crlNumber: number;
  der: Buffer;
  thisUpdate: Date;
  nextUpdate: Date;
}

export interface GeneratedCrl extends CrlRecord {
  /** Serials (hex) listed, with their reason. */
  entries: Array<{ serialNumber: string; reason: string; revocationDate: Date; invalidityDate?: Date }>;
}

/** JSON-safe summary, what an activity returns. */
export interface CrlSummary {
  crlNumber: number;
  thisUpdate: string;
  nextUpdate: string;
  entries: number;
}

/**
 * RFC 5280 reason name (as stored in `seals.revocation_reason`) → CRLReason code. Unknown or missing names
 * give `unspecified`, which is listed without a reason extension (RFC 5280 §5.3.1): the certificate is
 * still revoked, only the reason is not claimed.
 */
export function crlReasonCode(name: string | null | undefined): x509.X509CrlReason {
  if (!name || name === 'removeFromCRL') return x509.X509CrlReason.unspecified;
  const code = (x509.X509CrlReason as unknown as Record<string, number | undefined>)[name];
  return typeof code === 'number' ? (code as x509.X509CrlReason) : x509.X509CrlReason.unspecified;
}

/** Whole seconds: CRL and OCSP times carry no fractions (RFC 5280 §4.1.2.5.2). */
export const wholeSeconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

interface StatusRow {
  certificate_serial: string;
  revoked_at: Date | null;
  revocation_reason: string | null;
  hold_since: Date | null;
  invalidity_date: Date | null;
}

/** The status-bearing seal certificates: revoked ones (reason from the row) and held ones (certificateHold). */
function entriesFrom(rows: StatusRow[]): GeneratedCrl['entries'] {
  return rows.map((r) =>
    r.revoked_at
      ? { serialNumber: r.certificate_serial, reason: r.revocation_reason ?? 'unspecified', revocationDate: new Date(r.revoked_at), ...(r.invalidity_date ? { invalidityDate: new Date(r.invalidity_date) } : {}) }
      : { serialNumber: r.certificate_serial, reason: 'certificateHold', revocationDate: new Date(r.hold_since!) },
  );
}

/** The issuing CA certificate provisioned most recently (the one seal certificates are issued under). */
export async function loadIssuingCertificate(db: Db): Promise<x509.X509Certificate> {
  const row = await db('ca_certificates').where({ purpose: 'issuing' }).orderBy('created_at', 'desc').first('der');
  if (!row) throw new Error('No issuing CA certificate in PostgreSQL: provision the platform PKI first.');
  return new x509.X509Certificate(row.der as Buffer);
}

/** Builds, signs (issuing CA key in the HSM) and stores the next CRL. */
export async function generateCrl(hsm: Hsm, db: Db, opts: { nextUpdateHours?: number; now?: Date } = {}): Promise<GeneratedCrl> {
  const hours = opts.nextUpdateHours ?? DEFAULT_NEXT_UPDATE_HOURS;
  if (!Number.isFinite(hours) || hours <= 0) throw new Error(`nextUpdateHours must be positive, got ${hours}`);
  const issuing = await loadIssuingCertificate(db);
  const issuerKey = await hsm.publicKeySpki(ISSUING_CA_KEY_LABEL);
  if (!issuerKey.equals(Buffer.from(issuing.publicKey.rawData))) {
    throw new Error(`HSM key "${ISSUING_CA_KEY_LABEL}" does not match the issuing CA certificate ${issuing.subject}`);
  }
  const ski = issuing.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = ski
    ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(issuing.publicKey, false, hsmCrypto);

  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [CRL_LOCK_KEY]);
    const last = await trx('crls').max<{ max: string | null }>('crl_number as max').first();
    const crlNumber = Number(last?.max ?? 0) + 1;
    const rows: StatusRow[] = await trx('seals')
      .whereNotNull('certificate_serial')
      .where((q) => q.whereNotNull('revoked_at').orWhereNotNull('hold_since'))
      .orderBy('certificate_serial')
      .select('certificate_serial', 'revoked_at', 'revocation_reason', 'hold_since', 'invalidity_date');
    const entries = entriesFrom(rows);
    const thisUpdate = wholeSeconds(opts.now ?? new Date());
    const nextUpdate = new Date(thisUpdate.getTime() + hours * 3_600_000);
    const crl = await x509.X509CrlGenerator.create(
      {
        issuer: issuing.subjectName,
        thisUpdate,
        nextUpdate,
        signingKey: hsmSigningKey(hsm, ISSUING_CA_KEY_LABEL),
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [aki, new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(crlNumber)))],
        entries: entries.map((e) => {
          const reason = crlReasonCode(e.reason);
          return {
            serialNumber: e.serialNumber,
            revocationDate: wholeSeconds(e.revocationDate),
            ...(reason === x509.X509CrlReason.unspecified ? {} : { reason }),
            ...(e.invalidityDate ? { invalidity: wholeSeconds(e.invalidityDate) } : {}), // M13: keyCompromise
          };
        }),
      },
      hsmCrypto,
    );
    const der = Buffer.from(crl.rawData);
    await trx('crls').insert({ crl_number: crlNumber, der, this_update: thisUpdate, next_update: nextUpdate });
    return { crlNumber, der, thisUpdate, nextUpdate, entries };
  });
}

/** The CRL with the highest number, or undefined before the first one. */
export async function currentCrl(db: Db): Promise<CrlRecord | undefined> {
  const row = await db('crls').orderBy('crl_number', 'desc').first();
  if (!row) return undefined;
  return { crlNumber: Number(row.crl_number), der: row.der as Buffer, thisUpdate: new Date(row.this_update), nextUpdate: new Date(row.next_update) };
}

/**
 * Issues a fresh CRL after a seal's certificate status changed (hold, release, revocation). Safe to retry:
 * a repeated call only issues one more CRL with a higher number and the same content. Returns a JSON-safe
 * summary, so it can be an activity as it is: `regenerateCrl: () => regenerateCrl(hsm, db, { nextUpdateHours })`.
 */
export async function regenerateCrl(hsm: Hsm, db: Db, opts: { nextUpdateHours?: number } = {}): Promise<CrlSummary> {
  const crl = await generateCrl(hsm, db, opts);
  return { crlNumber: crl.crlNumber, thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate.toISOString(), entries: crl.entries.length };
}

/** Activities for the HSM worker (task queue `eseal-hsm`). */
export function createCrlActivities(deps: { hsm: Hsm; db: Db; nextUpdateHours: number }) {
  return {
    regenerateCrl: (): Promise<CrlSummary> => regenerateCrl(deps.hsm, deps.db, { nextUpdateHours: deps.nextUpdateHours }),
  };
}
