// What the OCSP responder keeps between requests (RFC 5019 §2.2, §6): certificate statuses, and signed
// responses to nonce-less requests, which are the same bytes for every relying party until the status
// changes or half the response's validity has passed. PostgreSQL tells of every status change through
// NOTIFY `ocsp_status` (trigger of migration 20261128010000), delivered on a connection of its own; the
// cache is used only while that connection listens (checked by a heartbeat, see HEARTBEAT_MS), and is
// emptied whenever it (re)connects, so a change made while nobody listened is never hidden behind a cached
// answer. Delivery is asynchronous, after commit: until it arrives this process may still serve the answer
// of before the change (milliseconds normally; at most about HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS when the
// connection is silently lost).
// A read of PostgreSQL that a notification overtakes must not be stored: callers take mark() before they
// read and store with it; any notification in between bumps the epoch and the store is dropped.
// Responses are keyed by their one normalised CertID (ocsp.ts), so a serial has at most a few (hash
// algorithms × parameter forms); each map is bounded, and every store and eviction is O(1).
import type { Socket } from 'node:net';
import pg from 'pg';

export interface CachedStatus {
  revokedAt?: Date;
  reason?: string;
  /** keyCompromise: since when the key is known or suspected compromised (singleExtensions invalidityDate). */
  invalidityDate?: Date;
}

interface CachedResponse {
  der: Buffer;
  serial: string;
  refreshAt: number;
}

const CHANNEL = 'ocsp_status';
const RECONNECT_MS = 1000;
/**
 * A connection cut without a reset (a network partition) would otherwise look alive while notifications
 * stop arriving: the listener is asked a trivial query this often, and given up when it takes longer
 * than HEARTBEAT_TIMEOUT_MS. This bounds how long a silently lost listener can serve stale answers.
 */
export const HEARTBEAT_MS = 5000;
export const HEARTBEAT_TIMEOUT_MS = 5000;

export class OcspStatusCache {
  private readonly statuses = new Map<string, CachedStatus>();
  private readonly responses = new Map<string, CachedResponse>();
  private readonly keysBySerial = new Map<string, Set<string>>();
  private epoch = 0;
  private client?: pg.Client;
  private retry?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly connection: pg.ClientConfig,
    /** Bound on each map (oldest out first): a million seals would otherwise keep a million responses, about 1 KB each. */
    private readonly maxEntries = 50_000,
  ) {
    void this.connect();
  }

  /** True while changes are heard; otherwise every answer is read and signed afresh. */
  get enabled(): boolean {
    return this.client !== undefined;
  }

  /** The PostgreSQL backend that listens (tests stop it to show a silent loss is noticed). */
  get listenerPid(): number | undefined {
    return (this.client as unknown as { processID?: number } | undefined)?.processID;
  }

  mark(): number {
    return this.epoch;
  }

  status(serial: string): CachedStatus | undefined {
    return this.enabled ? this.statuses.get(serial) : undefined;
  }

  storeStatus(serial: string, status: CachedStatus, mark: number): void {
    if (!this.enabled || mark !== this.epoch) return;
    if (!this.statuses.has(serial) && this.statuses.size >= this.maxEntries) this.statuses.delete(this.statuses.keys().next().value!);
    this.statuses.set(serial, status);
  }

  /** How many statuses and responses are kept (tests, to show the bound holds). */
  get size(): { statuses: number; responses: number } {
    return { statuses: this.statuses.size, responses: this.responses.size };
  }

  /** The signed response stored under this CertID key, unless it is due for refresh. */
  response(key: string, now: number): Buffer | undefined {
    if (!this.enabled) return undefined;
    const hit = this.responses.get(key);
    return hit && now < hit.refreshAt ? hit.der : undefined;
  }

  storeResponse(key: string, entry: CachedResponse, mark: number): void {
    if (!this.enabled || mark !== this.epoch) return;
    this.dropResponse(key);
    if (this.responses.size >= this.maxEntries) this.dropResponse(this.responses.keys().next().value!);
    this.responses.set(key, entry);
    let keys = this.keysBySerial.get(entry.serial);
    if (!keys) this.keysBySerial.set(entry.serial, (keys = new Set()));
    keys.add(key);
  }

  /** Forgets everything known of a serial (a notification; tests and re-provisioning may call it too). */
  invalidate(serial: string): void {
    this.epoch++;
    this.statuses.delete(serial);
    for (const key of this.keysBySerial.get(serial) ?? []) this.responses.delete(key);
    this.keysBySerial.delete(serial);
  }

  clear(): void {
    this.epoch++;
    this.statuses.clear();
    this.responses.clear();
    this.keysBySerial.clear();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    this.clear();
    await client?.end().catch(() => undefined);
  }

  private dropResponse(key: string): void {
    const old = this.responses.get(key);
    if (!old) return;
    this.responses.delete(key);
    const keys = this.keysBySerial.get(old.serial);
    keys?.delete(key);
    if (keys?.size === 0) this.keysBySerial.delete(old.serial);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ ...this.connection, application_name: 'eseal-ocsp-listen' });
    let gone = false;
    const lost = () => {
      if (gone) return;
      gone = true;
      if (this.client === client) {
        this.client = undefined;
        clearInterval(this.heartbeat);
      }
      this.clear();
      void client.end().catch(() => undefined);
      // end() waits for a server that may no longer answer; the socket goes now.
      (client as unknown as { connection?: { stream?: Socket } }).connection?.stream?.destroy();
      if (!this.stopped) this.retry = setTimeout(() => void this.connect(), RECONNECT_MS).unref();
    };
    client.on('notification', (n) => (n.payload ? this.invalidate(n.payload) : this.clear()));
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      // The listener must not keep a process alive that has finished everything else.
      (client as unknown as { connection: { stream: Socket } }).connection.stream.unref();
      await client.query(`listen ${CHANNEL}`);
      if (gone || this.stopped) return void client.end().catch(() => undefined);
      this.clear();
      this.client = client;
      let waiting = false;
      this.heartbeat = setInterval(() => {
        if (waiting) return;
        waiting = true;
        const late = setTimeout(lost, HEARTBEAT_TIMEOUT_MS).unref();
        client.query('select 1').then(
          () => {
            waiting = false;
            clearTimeout(late);
          },
          lost,
        );
      }, HEARTBEAT_MS).unref();
    } catch {
      lost();
    }
  }
}
