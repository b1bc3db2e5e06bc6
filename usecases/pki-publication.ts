// What the public PKI endpoints publish (U1, M13): the latest CRL, the CA certificates and OCSP answers.
// The CRLs themselves are issued by the HSM workers on every status change and on the schedule
// `crl-issuance` (usecases/crl-schedule.ts); this side never signs one.
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { currentCrl, type CrlRecord } from '../infra/pki/crl';
import { answerOcsp } from '../infra/pki/ocsp';
import { loadSm2CaKey } from '../infra/gm/sm2-ca';
import { currentSm2Crl } from '../infra/gm/sm2-crl';
import { answerSm2Ocsp } from '../infra/gm/sm2-ocsp';

/**
 * The latest CRL in PostgreSQL, or undefined before the first. Read by number, the DER fetched again only
 * when a newer one exists (one cache per reader).
 */
export function latestCrlReader(db: Db): () => Promise<CrlRecord | undefined> {
  let cached: CrlRecord | undefined;
  return async function latestCrl() {
    const head = await db('crls').orderBy('crl_number', 'desc').first('crl_number');
    if (!head) return undefined;
    if (cached?.crlNumber !== Number(head.crl_number)) cached = await currentCrl(db);
    return cached;
  };
}

/** The newest root or issuing CA certificate, or undefined when the PKI is not provisioned. */
export async function caCertificatePem(db: Db, purpose: 'root' | 'issuing'): Promise<string | undefined> {
  const row = await db('ca_certificates').where({ purpose }).orderBy('created_at', 'desc').first('pem');
  return row ? String(row.pem) : undefined;
}

export async function issuingCaCertificateDer(db: Db): Promise<Buffer | undefined> {
  const row = await db('ca_certificates').where({ purpose: 'issuing' }).orderBy('created_at', 'desc').first('der');
  return row ? (row.der as Buffer) : undefined;
}

/** The signed OCSP answer to a DER request; never throws (OCSP errors are OCSP responses). */
export const ocspAnswerer =
  (deps: { db: Db; hsm: Hsm; config: Pick<Config, 'pki'> }) =>
  (der: Uint8Array) =>
    answerOcsp(deps.hsm, deps.db, der, { nextUpdateHours: deps.config.pki.crlNextUpdateHours });

/** Issue 13: the SM2 chain's certificates (root, issuing CA), or undefined when it is not provisioned (suite intl). */
export async function sm2CaCertificateDer(db: Db, purpose: 'root' | 'issuing'): Promise<Buffer | undefined> {
  return (await loadSm2CaKey(db, purpose))?.certificate;
}

/** The latest SM2 CRL (issued by the HSM workers), or undefined before the first. */
export const latestSm2Crl = (db: Db) => currentSm2Crl(db);

/** The signed OCSP answer about SM2 certificates (the web token's SM2 responder key); never throws. */
export const sm2OcspAnswerer =
  (deps: { db: Db; hsm: Hsm; config: Pick<Config, 'pki'> }) =>
  (der: Uint8Array) =>
    answerSm2Ocsp(deps.hsm, deps.db, der, { nextUpdateHours: deps.config.pki.crlNextUpdateHours });
