// The audit chain's encoding, shared by the writer (log.ts), the head signer (heads.ts) and the verifier
// (verify.ts). Pure functions: what is hashed and what is signed is defined here and nowhere else.
//
// Entry hash (version 1), in two steps:
//   body_hash = SHA-256 over the RFC 8785 canonical JSON of
//     { v: 1, at: "<ISO 8601, ms, Z>", actor_user_id, actor_username, actor_role, actor_district_code,
//       actor_maker_id, actor_holder_id, action, outcome, target_type, target_id, case_id, client_address,
//       request_id, details }                                   (absent values are null)
//   hash      = SHA-256 over the ASCII text "eseal-audit/1|<seq, decimal>|<prev_hash>|<body_hash>"
// The writer computes body_hash; PostgreSQL computes the link (function audit_append, under the chain
// head's row lock), so the chain is extended in one statement. `seq` and `prev_hash` are inside the hash,
// so an entry cannot be moved, and every entry commits to the whole chain before it. The first entry's
// prev_hash is 64 zeros.
//
// Signed head (version 1): ECDSA P-256 / SHA-256 over the canonical JSON of
//   { v: 1, kind: "eseal-audit-head", seq: "<decimal>", hash, prev_head_seq: "<decimal>" | null, signed_at }
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export const GENESIS_HASH = '0'.repeat(64);
export const AUDIT_SIGNING_KEY_LABEL = 'eseal-audit-signing';
export const OUTCOMES = ['ok', 'refused', 'error'] as const;
export type AuditOutcome = (typeof OUTCOMES)[number];

/** The stored fields of one entry, as the database returns them (seq as a decimal string). */
export interface AuditRow {
  seq: string;
  at: Date;
  actor_user_id: string | null;
  actor_username: string | null;
  actor_role: string | null;
  actor_district_code: string | null;
  actor_maker_id: string | null;
  actor_holder_id: string | null;
  action: string;
  outcome: AuditOutcome;
  target_type: string | null;
  target_id: string | null;
  case_id: string | null;
  client_address: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export type AuditRowBody = Omit<AuditRow, 'seq' | 'prev_hash' | 'hash'>;

export const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The canonical bytes of an entry's content (everything but its place in the chain). */
export function bodyBytes(e: AuditRowBody): string {
  return canonicalize({
    v: 1,
    at: e.at.toISOString(),
    actor_user_id: e.actor_user_id,
    actor_username: e.actor_username,
    actor_role: e.actor_role,
    actor_district_code: e.actor_district_code,
    actor_maker_id: e.actor_maker_id,
    actor_holder_id: e.actor_holder_id,
    action: e.action,
    outcome: e.outcome,
    target_type: e.target_type,
    target_id: e.target_id,
    case_id: e.case_id,
    client_address: e.client_address,
    request_id: e.request_id,
    details: e.details,
  })!;
}

export const bodyHash = (e: AuditRowBody) => sha256Hex(bodyBytes(e));

/** The link: what audit_append computes in PostgreSQL (migrations/20261127040000_audit.ts). */
export const linkHash = (seq: string | number | bigint, prevHash: string, body: string) => sha256Hex(`eseal-audit/1|${String(seq)}|${prevHash}|${body}`);

export const entryHash = (seq: string | number | bigint, prevHash: string, e: AuditRowBody) => linkHash(seq, prevHash, bodyHash(e));

export interface HeadPayload {
  seq: string;
  hash: string;
  prevHeadSeq: string | null;
  signedAt: Date;
}

/** The bytes signed for a chain head. */
export function headBytes(h: HeadPayload): Buffer {
  return Buffer.from(
    canonicalize({ v: 1, kind: 'eseal-audit-head', seq: h.seq, hash: h.hash, prev_head_seq: h.prevHeadSeq, signed_at: h.signedAt.toISOString() })!,
    'utf8',
  );
}

/**
 * Makes details storable exactly as hashed: a jsonb round trip must give back the same canonical JSON.
 * Strings lose NUL (jsonb refuses it) and lone surrogates; numbers must be finite; undefined is dropped;
 * dates become ISO strings. Size is capped so that an entry stays small.
 */
export function normaliseDetails(details: unknown, maxBytes = 8192): Record<string, unknown> {
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 8) return '[too deep]';
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? (Object.is(v, -0) ? 0 : v) : String(v);
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'string') return cleanText(v);
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1) ?? null);
    if (typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        const w = walk(x, depth + 1);
        if (w !== undefined) out[cleanText(k)] = w;
      }
      return out;
    }
    return undefined; // functions, symbols, undefined
  };
  const out = walk(details ?? {}, 0);
  const obj = out && typeof out === 'object' && !Array.isArray(out) ? (out as Record<string, unknown>) : { value: out ?? null };
  const size = Buffer.byteLength(JSON.stringify(obj), 'utf8');
  return size <= maxBytes ? obj : { truncated: true, size, keys: Object.keys(obj).slice(0, 50) };
}

/** Text as PostgreSQL keeps it: no NUL, no lone surrogates. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what must go
export const cleanText = (s: string) => s.replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
