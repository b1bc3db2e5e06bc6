// Signed chain heads: at intervals the chain's head hash is signed inside the HSM with the token key
// `eseal-audit-signing` (P-256, sensitive, never extractable). Anyone who rewrites the chain from some entry
// on (recomputing every later hash) cannot make it match a signed head again without the HSM.
// Signing runs on HSM workers only (activities/audit-heads.ts, driven by auditHeadSigningWorkflow); the
// key and its certificate (issued by the platform's issuing CA, `<dataDir>/pki/audit-signing.pem`) are
// provisioned with the rest of the PKI at start-up, so the verifier needs no HSM: only that certificate.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../db';
import { toDerEcdsaSignature, type Hsm } from '../hsm/hsm';
import { afterDays, ensureKeyCertificate } from '../pki/key-certificate';
import * as x509 from '../pki/x509';
import { AUDIT_SIGNING_KEY_LABEL, headBytes, sha256Hex } from './chain';

export const AUDIT_SIGNING_CN = '北京市电子印章管理服务平台审计日志签名';
const VALIDITY_DAYS = 5 * 365;
const RENEW_BEFORE_DAYS = 60;
/** Serialises head signing across processes (two HSM workers never sign two heads on the same predecessor). */
const HEAD_LOCK = 0x65736561_6c617564n; // 'esealaud'

export const auditCertificatePath = (dataDir: string) => path.join(path.resolve(dataDir, 'pki'), 'audit-signing.pem');

/**
 * Ensures the audit signing key in the HSM and its certificate in `<dataDir>/pki/audit-signing.pem`
 * (reused while it matches the key and the issuing CA and has more than 60 days left).
 */
export async function ensureAuditSigningCertificate(hsm: Hsm, dataDir: string, now = new Date()): Promise<{ path: string; created: boolean }> {
  const file = auditCertificatePath(dataDir);
  const issuingDer = new X509Certificate(await readFile(path.join(path.dirname(file), 'issuing-ca.pem'))).raw;
  const { created } = await ensureKeyCertificate(hsm, {
    keyLabel: AUDIT_SIGNING_KEY_LABEL,
    file,
    issuingDer,
    commonName: AUDIT_SIGNING_CN,
    notAfter: afterDays(VALIDITY_DAYS),
    renewBeforeDays: RENEW_BEFORE_DAYS,
    keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
    now,
  });
  return { path: file, created };
}

export interface HeadStatus {
  chainSeq: bigint;
  lastSignedSeq: bigint;
  /** When the oldest entry not covered by a signed head was written (null: everything is signed). */
  oldestUnsignedAt: Date | null;
}

export async function auditHeadStatus(db: Db): Promise<HeadStatus> {
  const head = await db('audit_chain_head').where({ id: 1 }).first('seq');
  const last = await db('audit_heads').max('seq as seq').first();
  const chainSeq = BigInt(head?.seq ?? 0);
  const lastSignedSeq = BigInt(last?.seq ?? 0);
  if (chainSeq <= lastSignedSeq) return { chainSeq, lastSignedSeq, oldestUnsignedAt: null };
  const oldest = await db('audit_entries').where('seq', '>', lastSignedSeq.toString()).orderBy('seq').first('at');
  return { chainSeq, lastSignedSeq, oldestUnsignedAt: oldest?.at ?? null };
}

/**
 * Signs the current chain head if it moved since the last signed head. Idempotent; concurrent signers are
 * serialised by an advisory lock, so each head names the one signed before it.
 */
export async function signAuditHead(hsm: Hsm, db: Db, now = new Date()): Promise<{ signed: boolean; seq: string }> {
  const spki = (await hsm.ensureEcKeyPair(AUDIT_SIGNING_KEY_LABEL)).publicKeySpki;
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?::bigint)', [BigInt.asIntN(64, HEAD_LOCK).toString()]);
    const head = await trx('audit_chain_head').where({ id: 1 }).first('seq', 'hash');
    const last = await trx('audit_heads').orderBy('seq', 'desc').first('seq');
    const seq = String(head?.seq ?? '0');
    if (seq === '0' || (last && BigInt(last.seq) >= BigInt(seq))) return { signed: false, seq: last?.seq ?? '0' };
    const payload = { seq, hash: head.hash as string, prevHeadSeq: last ? String(last.seq) : null, signedAt: new Date(Math.floor(now.getTime())) };
    const signature = toDerEcdsaSignature(await hsm.signEcdsaSha256(AUDIT_SIGNING_KEY_LABEL, headBytes(payload)));
    await trx('audit_heads').insert({
      seq,
      hash: payload.hash,
      prev_head_seq: payload.prevHeadSeq,
      signed_at: payload.signedAt,
      key_label: AUDIT_SIGNING_KEY_LABEL,
      key_fingerprint: sha256Hex(spki),
      signature,
    });
    return { signed: true, seq };
  });
}
