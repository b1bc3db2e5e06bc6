// Verifying the audit trail (M6, P1): walks the chain in seq order inside one consistent snapshot,
// recomputes every entry's hash, follows every prev_hash link, and checks every signed head against the
// chain and against the audit signing certificate's public key (Node crypto; no HSM needed).
// It stops at the first problem and names the entry: removed (a seq is missing), altered (its content or
// its link no longer matches), reordered (the entry that followed its predecessor now sits elsewhere), or
// rewritten (hashes recomputed, caught by a signed head).
import { createPublicKey, verify as nodeVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Db } from '../db';
import { entryHash, GENESIS_HASH, headBytes, sha256Hex, type AuditRow } from './chain';

export type FindingKind = 'removed' | 'altered' | 'reordered' | 'rewritten' | 'head_forged' | 'head_removed' | 'inserted';

export interface AuditFinding {
  kind: FindingKind;
  /** The first entry affected. */
  seq: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  firstSeq: string | null;
  lastSeq: string | null;
  heads: number;
  lastSignedSeq: string | null;
  /** Entries after the last signed head: protected by the chain only until the next head is signed. */
  unsignedTail: number;
  finding?: AuditFinding;
  seconds: number;
}

export interface AuditPublicKey {
  key: KeyObject;
  /** SHA-256 of the SPKI DER, as recorded with each head. */
  fingerprint: string;
  subject?: string;
}

/**
 * The audit signing key from its certificate (default `<dataDir>/pki/audit-signing.pem`), checked against
 * the issuing CA certificate beside it when that is present.
 */
export function loadAuditPublicKey(certPath: string): AuditPublicKey {
  if (!existsSync(certPath)) throw new Error(`no audit signing certificate at ${certPath} (it is provisioned at start-up with the PKI)`);
  const pem = readFileSync(certPath);
  let key: KeyObject;
  let subject: string | undefined;
  if (pem.includes('BEGIN CERTIFICATE')) {
    const cert = new X509Certificate(pem);
    const issuingPath = path.join(path.dirname(certPath), 'issuing-ca.pem');
    if (existsSync(issuingPath)) {
      const issuing = new X509Certificate(readFileSync(issuingPath));
      if (!cert.verify(issuing.publicKey)) throw new Error(`${certPath} is not signed by the issuing CA in ${issuingPath}`);
    }
    key = cert.publicKey;
    subject = cert.subject;
  } else {
    key = createPublicKey(pem);
  }
  const spki = key.export({ type: 'spki', format: 'der' });
  return { key, fingerprint: sha256Hex(spki), subject };
}

interface HeadRow {
  seq: string;
  hash: string;
  prev_head_seq: string | null;
  signed_at: Date;
  key_fingerprint: string;
  signature: Buffer;
}

const COLUMNS =
  'seq, at, actor_user_id, actor_username, actor_role, actor_district_code, actor_maker_id, actor_holder_id, action, outcome, target_type, target_id, case_id, client_address, request_id, details, prev_hash, hash';

function headSignatureOk(h: HeadRow, pub: AuditPublicKey): boolean {
  if (h.key_fingerprint !== pub.fingerprint) return false;
  try {
    return nodeVerify('sha256', headBytes({ seq: String(h.seq), hash: h.hash, prevHeadSeq: h.prev_head_seq === null ? null : String(h.prev_head_seq), signedAt: h.signed_at }), pub.key, h.signature);
  } catch {
    return false;
  }
}

const earliest = (a: AuditFinding | undefined, b: AuditFinding | undefined) => (!a ? b : !b ? a : BigInt(b.seq) < BigInt(a.seq) ? b : a);

/** Walks the whole chain; `pageSize` rows per query (the next page is fetched while one is checked). */
export async function verifyAuditChain(db: Db, pub: AuditPublicKey, opts: { pageSize?: number } = {}): Promise<VerifyReport> {
  const started = process.hrtime.bigint();
  const pageSize = opts.pageSize ?? 10_000;
  // One snapshot for the entries, the heads and the chain head: appends going on meanwhile are not seen.
  const trx = await db.transaction({ isolationLevel: 'repeatable read', readOnly: true });
  try {
    const report = await walk(trx, pub, pageSize);
    return { ...report, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } finally {
    await trx.rollback().catch(() => undefined);
  }
}

async function walk(trx: Knex.Transaction, pub: AuditPublicKey, pageSize: number): Promise<Omit<VerifyReport, 'seconds'>> {
  const heads: HeadRow[] = (await trx('audit_heads').orderBy('seq').select('seq', 'hash', 'prev_head_seq', 'signed_at', 'key_fingerprint', 'signature')).map((h) => ({ ...h, seq: String(h.seq), prev_head_seq: h.prev_head_seq === null ? null : String(h.prev_head_seq) }));
  const chainHead = await trx('audit_chain_head').where({ id: 1 }).first('seq', 'hash');

  // Heads on their own: genuinely signed by the audit key, each naming the one before it.
  let headFinding: AuditFinding | undefined;
  const validHeads = new Map<string, HeadRow>();
  heads.forEach((h, i) => {
    if (!headSignatureOk(h, pub)) {
      headFinding = earliest(headFinding, { kind: 'head_forged', seq: h.seq, message: `signed head at seq ${h.seq} does not verify with the audit signing key (the head was altered or forged)` });
      return;
    }
    const expected = i === 0 ? h.prev_head_seq : heads[i - 1].seq;
    if (h.prev_head_seq !== expected) {
      headFinding = earliest(headFinding, { kind: 'head_removed', seq: h.prev_head_seq ?? h.seq, message: `the signed head at seq ${h.prev_head_seq} was removed (the head at seq ${h.seq} names it as its predecessor)` });
    }
    validHeads.set(h.seq, h);
  });

  const fetchPage = (after: string): Promise<AuditRow[]> => {
    const page = trx.raw(`select ${COLUMNS} from audit_entries where seq > ? order by seq limit ?`, [after, pageSize]).then((r: { rows: AuditRow[] }) => r.rows);
    page.catch(() => undefined); // awaited below; never an unhandled rejection if the walk stops early
    return page;
  };

  let entries = 0;
  let firstSeq: string | null = null;
  let expected = 1n;
  let prevHash = GENESIS_HASH;
  let lastGoodHead = 0n;
  let headIdx = 0;
  let finding: AuditFinding | undefined;
  let next = fetchPage('0');
  let first = true;
  pages: for (;;) {
    const rows = await next;
    if (rows.length === 0) break;
    next = rows.length === pageSize ? fetchPage(String(rows[rows.length - 1].seq)) : Promise.resolve([]);
    for (const row of rows) {
      const seq = BigInt(row.seq);
      if (first) {
        first = false;
        firstSeq = String(row.seq);
        // The chain may start after a signed head (older entries disposed of after their retention).
        const anchor = seq > 1n ? validHeads.get(String(seq - 1n)) : undefined;
        if (anchor && anchor.hash === row.prev_hash) {
          expected = seq;
          prevHash = row.prev_hash;
          lastGoodHead = seq - 1n;
        }
      }
      if (seq !== expected) {
        const range = seq - expected === 1n ? `entry ${expected} is missing` : `entries ${expected}–${seq - 1n} are missing`;
        finding = { kind: 'removed', seq: expected.toString(), message: `entry ${expected} was removed: ${range} (the chain jumps from ${expected - 1n} to ${seq})` };
        break pages;
      }
      const selfOk = entryHash(row.seq, row.prev_hash, row) === row.hash;
      const linkOk = row.prev_hash === prevHash;
      if (!linkOk) {
        const moved = await trx('audit_entries').where({ prev_hash: prevHash }).whereNot({ seq: row.seq }).orderBy('seq').first('seq');
        if (moved) {
          finding = { kind: 'reordered', seq: row.seq, message: `entry ${row.seq} was reordered: it does not follow entry ${seq - 1n}; the entry that did is now at seq ${moved.seq}` };
        } else if (selfOk && seq > 1n) {
          finding = { kind: 'altered', seq: (seq - 1n).toString(), message: `entry ${seq - 1n} was altered and its hash recomputed: entry ${seq} still links to the original` };
        } else {
          finding = { kind: 'altered', seq: row.seq, message: `entry ${row.seq} was altered: neither its content nor its link to entry ${seq - 1n} match its hash` };
        }
        break pages;
      }
      if (!selfOk) {
        finding = { kind: 'altered', seq: row.seq, message: `entry ${row.seq} was altered: its content no longer matches its hash` };
        break pages;
      }
      while (headIdx < heads.length && BigInt(heads[headIdx].seq) < seq) headIdx++;
      const head = heads[headIdx];
      if (head && BigInt(head.seq) === seq) {
        headIdx++;
        if (validHeads.has(head.seq)) {
          if (head.hash !== row.hash) {
            finding = {
              kind: 'rewritten',
              seq: (lastGoodHead + 1n).toString(),
              message: `entries ${lastGoodHead + 1n}–${seq} were rewritten (hashes recomputed): the signed head at seq ${seq} does not match the chain`,
            };
            break pages;
          }
          lastGoodHead = seq;
        }
      }
      prevHash = row.hash;
      expected = seq + 1n;
      entries++;
    }
  }
  await next.catch(() => undefined); // a page fetched ahead must finish before the snapshot ends
  const lastSeq = expected - 1n;
  if (!finding) {
    // Removed at the end: a signed head (or the chain head row) beyond the last entry.
    const beyond = heads.find((h) => validHeads.has(h.seq) && BigInt(h.seq) > lastSeq);
    const headSeq = BigInt(chainHead?.seq ?? 0);
    if (beyond) {
      finding = { kind: 'removed', seq: (lastSeq + 1n).toString(), message: `entries from ${lastSeq + 1n} were removed: the chain ends at ${lastSeq} but a signed head covers seq ${beyond.seq}` };
    } else if (headSeq > lastSeq) {
      finding = { kind: 'removed', seq: (lastSeq + 1n).toString(), message: `entries ${lastSeq + 1n}–${headSeq} were removed: the chain ends at ${lastSeq} but its head records seq ${headSeq}` };
    } else if (headSeq < lastSeq) {
      finding = { kind: 'inserted', seq: (headSeq + 1n).toString(), message: `entries ${headSeq + 1n}–${lastSeq} were inserted behind the writer's back: the chain head records seq ${headSeq}` };
    } else if (lastSeq > 0n && chainHead.hash !== prevHash) {
      finding = { kind: 'rewritten', seq: (lastGoodHead + 1n).toString(), message: `entries ${lastGoodHead + 1n}–${lastSeq} were rewritten: the chain head's hash does not match entry ${lastSeq}` };
    }
  }
  finding = earliest(finding, headFinding);
  const signed = [...validHeads.keys()].map(BigInt).filter((s) => s <= lastSeq);
  const lastSigned = signed.length ? signed.reduce((a, b) => (a > b ? a : b)) : null;
  return {
    ok: !finding,
    entries,
    firstSeq,
    lastSeq: lastSeq > 0n ? lastSeq.toString() : null,
    heads: heads.length,
    lastSignedSeq: lastSigned?.toString() ?? null,
    unsignedTail: Number(lastSeq - (lastSigned ?? (firstSeq ? BigInt(firstSeq) - 1n : 0n))),
    finding,
  };
}
