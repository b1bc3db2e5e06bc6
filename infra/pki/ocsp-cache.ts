// What the OCSP responder keeps between requests (RFC 5019 §2.2, §6): certificate statuses, and signed
// responses to nonce-less requests, which are the same bytes for every relying party until the status
// changes or half the response's validity has passed. PostgreSQL tells of every status change through
// NOTIFY `ocsp_status` (trigger of migration 20261128010000), delivered on a connection of its own; the
// cache is used only while that connection listens, and is emptied whenever it (re)connects, so a change
// made while nobody listened is never hidden behind a cached answer.
// A read of PostgreSQL that a notification overtakes must not be stored: callers take mark() before they
// read and store with it; any notification in between bumps the epoch and the store is dropped.
import type { Socket } from 'node:net';
import pg from 'pg';

export interface CachedStatus {
  revokedAt?: Date;
  reason?: string;
}

interface CachedResponse {
  der: Buffer;
  serials: string[];
  refreshAt: number;
}

const CHANNEL = 'ocsp_status';
const RECONNECT_MS = 1000;

export class OcspStatusCache {
  private readonly statuses = new Map<string, CachedStatus>();
  private readonly responses = new Map<string, CachedResponse>();
  private readonly keysBySerial = new Map<string, string[]>();
  private epoch = 0;
  private client?: pg.Client;
  private retry?: NodeJS.Timeout;
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

  mark(): number {
    return this.epoch;
  }

  status(serial: string): CachedStatus | undefined {
    return this.enabled ? this.statuses.get(serial) : undefined;
  }

  storeStatus(serial: string, status: CachedStatus, mark: number): void {
    if (!this.enabled || mark !== this.epoch) return;
    if (this.statuses.size >= this.maxEntries) this.statuses.delete(this.statuses.keys().next().value!);
    this.statuses.set(serial, status);
  }

  /** The signed response stored for exactly these request bytes, unless it is due for refresh. */
  response(key: string, now: number): Buffer | undefined {
    if (!this.enabled) return undefined;
    const hit = this.responses.get(key);
    return hit && now < hit.refreshAt ? hit.der : undefined;
  }

  storeResponse(key: string, entry: CachedResponse, mark: number): void {
    if (!this.enabled || mark !== this.epoch) return;
    if (this.responses.size >= this.maxEntries) this.dropResponse(this.responses.keys().next().value!);
    this.dropResponse(key);
    this.responses.set(key, entry);
    for (const s of entry.serials) this.keysBySerial.set(s, [...(this.keysBySerial.get(s) ?? []), key]);
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
    const client = this.client;
    this.client = undefined;
    this.clear();
    await client?.end().catch(() => undefined);
  }

  private dropResponse(key: string): void {
    const old = this.responses.get(key);
    if (!old) return;
    this.responses.delete(key);
    for (const s of old.serials) {
      const left = (this.keysBySerial.get(s) ?? []).filter((k) => k !== key);
      if (left.length > 0) this.keysBySerial.set(s, left);
      else this.keysBySerial.delete(s);
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ ...this.connection, application_name: 'eseal-ocsp-listen' });
    let gone = false;
    const lost = () => {
      if (gone) return;
      gone = true;
      if (this.client === client) this.client = undefined;
      this.clear();
      void client.end().catch(() => undefined);
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
    } catch {
      lost();
    }
  }
}
