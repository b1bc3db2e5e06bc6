// Writing the audit trail (M6, P1). One writer order for the whole platform: every append is one call of
// the database function audit_append, which locks the chain head (`audit_chain_head`, one row), links the
// entries onto it (seq + 1, prev_hash, hash) and moves it forward. Appends from any number of processes
// queue on that row lock, so the chain is linear and gapless under any concurrency; the lock is held for
// one statement and its commit. This process computes each entry's content hash (canonical JSON,
// infra/audit/chain.ts); PostgreSQL computes the link under the lock.
//
// Within a process, appends that arrive while a batch is being written go together in the next batch
// (like a database's group commit): the cost of the single writer order is paid once per batch, not once
// per entry. `appendAudit` resolves when its entry is committed.
//
//   appendAudit(db, entry)     any entry (the HTTP middleware writes changes and refusals with it)
//   appendAudit(trx, entry)    inside the caller's transaction: committed with the caller's change, or not at all
//   auditRead(db, actor, …)    a read of personal data by an actor, once per request and target
import { isIP } from 'node:net';
import type { Knex } from 'knex';
import type { Db } from '../db';
import { bodyHash, cleanText, normaliseDetails, OUTCOMES, type AuditOutcome, type AuditRowBody } from './chain';
import { currentAuditContext } from './context';

/** Who acted: structurally the web layer's Actor. */
export interface AuditActor {
  userId: string;
  username: string;
  role: string;
  districtCode: string | null;
  makerId: string | null;
  holderId: string | null;
  /** U2: the API client acting through its service account. */
  client?: { id: string; name: string; tier: string } | null;
}

export interface AuditEntryInput {
  /** Dotted verb: `case.read`, `case.submit`, `task.decide`, `material.read`, `keeper.list`, … */
  action: string;
  outcome?: AuditOutcome;
  actor?: AuditActor | null;
  targetType?: string | null;
  targetId?: string | null;
  caseId?: string | null;
  /** Defaults to the current request's address (infra/audit/context.ts). */
  clientAddress?: string | null;
  requestId?: string | null;
  /** Never personal data itself (no ID numbers, phones, passwords): what was touched, not its content. */
  details?: Record<string, unknown>;
  at?: Date;
}

export interface AppendedEntry {
  seq: string;
  hash: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuidOrNull = (v: string | null | undefined) => (v && UUID.test(v) ? v.toLowerCase() : null);
const textOrNull = (v: string | null | undefined, max = 200) => (v === null || v === undefined || v === '' ? null : cleanText(String(v)).slice(0, max));
const MAX_BATCH = 1000;

/** The stored form of an entry (everything but seq and the hashes). */
export function toRowBody(e: AuditEntryInput): AuditRowBody {
  const ctx = currentAuditContext();
  const address = e.clientAddress !== undefined ? e.clientAddress : (ctx?.clientAddress ?? null);
  const a = e.actor ?? null;
  const extra: Record<string, unknown> = {};
  const caseId = uuidOrNull(e.caseId);
  if (e.caseId && !caseId) extra.case_ref = e.caseId; // kept, but not as a case
  if (a?.client) Object.assign(extra, { client_id: a.client.id, client_name: a.client.name, client_tier: a.client.tier }); // U2: the entry names the client
  return {
    // Milliseconds: the value read back from timestamptz is exactly the one hashed.
    at: new Date(Math.floor((e.at ?? new Date()).getTime())),
    actor_user_id: uuidOrNull(a?.userId),
    actor_username: textOrNull(a?.username),
    actor_role: textOrNull(a?.role, 20),
    actor_district_code: a?.districtCode && /^\d{6}$/.test(a.districtCode) ? a.districtCode : null,
    actor_maker_id: uuidOrNull(a?.makerId),
    actor_holder_id: uuidOrNull(a?.holderId),
    action: textOrNull(e.action, 200) ?? 'unknown',
    outcome: e.outcome && OUTCOMES.includes(e.outcome) ? e.outcome : 'ok',
    target_type: textOrNull(e.targetType, 50),
    target_id: textOrNull(e.targetId),
    case_id: caseId,
    client_address: address && isIP(address) ? address : textOrNull(address, 100),
    request_id: uuidOrNull(e.requestId !== undefined ? e.requestId : ctx?.requestId),
    details: normaliseDetails({ ...(e.details ?? {}), ...extra }),
  };
}

/**
 * Appends in order, in one statement (audit_append: lock the chain head, link, insert, move the head), and
 * returns the entries' seq and hash. In a caller's transaction the head stays locked until it ends.
 */
export async function appendAuditBatch(db: Db | Knex.Transaction, bodies: AuditRowBody[]): Promise<AppendedEntry[]> {
  if (bodies.length === 0) return [];
  const payload = bodies.map((b) => ({ ...b, at: b.at.toISOString(), body_hash: bodyHash(b) }));
  const result = await db.raw('select seq, hash from audit_append(?::jsonb)', [JSON.stringify(payload)]);
  return (result.rows as Array<{ seq: string; hash: string }>).map((r) => ({ seq: String(r.seq), hash: r.hash }));
}

interface Pending {
  body: AuditRowBody;
  resolve: (e: AppendedEntry) => void;
  reject: (e: unknown) => void;
}

/** The process's writer for one database: batches appends that arrive while one is being written. */
class AuditWriter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(private readonly db: Db) {}

  append(body: AuditRowBody): Promise<AppendedEntry> {
    return new Promise((resolve, reject) => {
      this.queue.push({ body, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush() {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          const entries = await appendAuditBatch(this.db, batch.map((p) => p.body));
          batch.forEach((p, i) => p.resolve(entries[i]));
        } catch (e) {
          batch.forEach((p) => p.reject(e));
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

const writers = new WeakMap<object, AuditWriter>();

/** Appends one entry to the chain; resolves when it is committed (or, with a transaction, written in it). */
export async function appendAudit(db: Db | Knex.Transaction, entry: AuditEntryInput): Promise<AppendedEntry> {
  const body = toRowBody(entry);
  if ((db as Knex.Transaction).isTransaction === true) return (await appendAuditBatch(db, [body]))[0];
  let writer = writers.get(db);
  if (!writer) writers.set(db, (writer = new AuditWriter(db)));
  return writer.append(body);
}

/**
 * A read of personal data (M6, P1): who read what, for which case, from where. Call it in the use-case
 * right after the scope check and before the data is returned: if it cannot be written, nothing is read.
 * Within one HTTP request the same read of the same target is recorded once.
 */
export async function auditRead(
  db: Db,
  actor: AuditActor,
  read: { action: string; targetType: string; targetId: string; caseId?: string | null; details?: Record<string, unknown> },
): Promise<void> {
  const ctx = currentAuditContext();
  const key = `${actor.userId}|${read.action}|${read.targetType}|${read.targetId}`;
  if (ctx?.reads.has(key)) return;
  ctx?.reads.add(key);
  try {
    await appendAudit(db, { ...read, actor, outcome: 'ok' });
  } catch (e) {
    ctx?.reads.delete(key);
    throw e;
  }
}
