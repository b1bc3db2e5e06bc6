// The SM2 issuing CA's CRL (RFC 5280 §5, v2; SM2/SM3 signature 1.2.156.10197.1.501), issued by HSM workers
// beside the ECDSA CRL (../pki/crl.ts) on every status change and on the CRL schedule. A seal's status is one:
// its SM2 certificate (seal_national.certificate_serial) is listed exactly when its ECDSA one is (revoked with
// the seal's reason and invalidity date, or certificateHold while suspended). Numbers strictly increase
// under their own advisory lock; every CRL is kept in `gm_crls`.
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AuthorityKeyIdentifier,
  CertificateList,
  CRLNumber,
  CRLReason,
  id_ce_authorityKeyIdentifier,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
  id_ce_invalidityDate,
  InvalidityDate,
  KeyIdentifier,
  Name,
  RevokedCertificate,
  TBSCertList,
  Time,
  Version,
} from '@peculiar/asn1-x509';
import type { Db } from '../db';
import type { Sm2Module } from '../hsm/sm2-module';
import { crlReasonCode, DEFAULT_NEXT_UPDATE_HOURS, wholeSeconds, type CrlRecord } from '../pki/crl';
import * as x509 from '../pki/x509';
import { OID_SM2_WITH_SM3 } from './sm2';
import { certificateSubjectDer, ext, keyId } from './sm2-certificates';
import { sm2IssuingCa } from './sm2-ca';

const SM2_CRL_LOCK_KEY = createHash('sha256').update('eseal:sm2-crl-number').digest().readInt32BE(0);

export interface Sm2CrlEntry {
  serialNumber: string;
  reason: string;
  revocationDate: Date;
  invalidityDate?: Date;
}

/** Builds, signs (the SM2 issuing CA key, through the issuing token's SM2 module) and stores the next SM2 CRL. */
export async function generateSm2Crl(sm2: Sm2Module, db: Db, opts: { nextUpdateHours?: number; now?: Date } = {}): Promise<CrlRecord & { entries: Sm2CrlEntry[] }> {
  const hours = opts.nextUpdateHours ?? DEFAULT_NEXT_UPDATE_HOURS;
  const issuing = await sm2IssuingCa(db);
  const issuer = AsnConvert.parse(certificateSubjectDer(issuing.certificate), Name);
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [SM2_CRL_LOCK_KEY]);
    const last = await trx('gm_crls').max<{ max: string | null }>('crl_number as max').first();
    const crlNumber = Number(last?.max ?? 0) + 1;
    const rows = await trx('seals as s')
      .join('seal_national as n', 'n.seal_id', 's.id')
      .whereNotNull('n.certificate_serial')
      .where((q) => q.whereNotNull('s.revoked_at').orWhereNotNull('s.hold_since'))
      .orderBy('n.certificate_serial')
      .select('n.certificate_serial', 's.revoked_at', 's.revocation_reason', 's.hold_since', 's.invalidity_date');
    const entries: Sm2CrlEntry[] = rows.map((r) =>
      r.revoked_at
        ? { serialNumber: r.certificate_serial, reason: r.revocation_reason ?? 'unspecified', revocationDate: new Date(r.revoked_at), ...(r.invalidity_date ? { invalidityDate: new Date(r.invalidity_date) } : {}) }
        : { serialNumber: r.certificate_serial, reason: 'certificateHold', revocationDate: new Date(r.hold_since) },
    );
    const thisUpdate = wholeSeconds(opts.now ?? new Date());
    const nextUpdate = new Date(thisUpdate.getTime() + hours * 3_600_000);
    const algorithm = new AlgorithmIdentifier({ algorithm: OID_SM2_WITH_SM3 });
    const tbs = new TBSCertList({
      version: Version.v2,
      signature: algorithm,
      issuer,
      thisUpdate: new Time(thisUpdate),
      nextUpdate: new Time(nextUpdate),
      revokedCertificates: entries.length
        ? entries.map((e) => {
            const code = crlReasonCode(e.reason);
            const extensions = [
              ...(code === x509.X509CrlReason.unspecified ? [] : [ext(id_ce_cRLReasons, false, new CRLReason(code as number))]),
              ...(e.invalidityDate ? [ext(id_ce_invalidityDate, false, new InvalidityDate(wholeSeconds(e.invalidityDate)))] : []),
            ];
            return new RevokedCertificate({
              userCertificate: new Uint8Array(Buffer.from(e.serialNumber, 'hex')).buffer,
              revocationDate: new Time(wholeSeconds(e.revocationDate)),
              ...(extensions.length ? { crlEntryExtensions: extensions } : {}),
            });
          })
        : undefined,
      crlExtensions: [
        ext(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(keyId(issuing.key.publicKeySpki)).buffer) })),
        ext(id_ce_cRLNumber, false, new CRLNumber(crlNumber)),
      ],
    });
    const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
    const signature = await sm2.sign(issuing.key, tbsDer);
    const der = Buffer.from(AsnConvert.serialize(new CertificateList({ tbsCertList: tbs, signatureAlgorithm: algorithm, signature: new Uint8Array(signature).buffer })));
    await trx('gm_crls').insert({ crl_number: crlNumber, der, this_update: thisUpdate, next_update: nextUpdate });
    return { crlNumber, der, thisUpdate, nextUpdate, entries };
  });
}

/** The SM2 CRL with the highest number, or undefined before the first one. */
export async function currentSm2Crl(db: Db): Promise<CrlRecord | undefined> {
  const row = await db('gm_crls').orderBy('crl_number', 'desc').first();
  if (!row) return undefined;
  return { crlNumber: Number(row.crl_number), der: row.der as Buffer, thisUpdate: new Date(row.this_update), nextUpdate: new Date(row.next_update) };
}
