// Personal data at rest (P1): envelope encryption. AES-256-GCM data keys encrypt fields and files in Node;
// each data key is stored only wrapped by the web token's key `eseal-web-personal-data-kek` (AES, sensitive, never
// extractable), so a database dump, a copy of the blob folder or a backup reveals nothing without the HSM.
// ID numbers are also stored as a keyed hash (HMAC-SHA256, its key wrapped the same way) so that lookups by
// ID number work without decrypting every row.
import { Readable } from 'node:stream';
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../db';
import type { Hsm } from '../hsm/hsm';
import { appendAudit } from '../audit/log';
import { BLOB_CHUNK_BYTES, BLOB_MAGIC, decryptChunks, encryptChunks, isChunkedBlob } from './stream';
import { PersonalDataIntegrityError, placeAad, type Place } from './place';
import { logger } from '../observability/logger';

export { materialPlace, type Place, PersonalDataIntegrityError, placeName } from './place';
export { BLOB_CHUNK_BYTES, encryptedBlobSize } from './stream';
/** `materials.blob_format` of files in the current format (chunked, bound to the holder). */
export const BLOB_FORMAT = 'pd2';

/** The KEK in the web token (M4). Keys wrapped by the single token of earlier versions name the legacy label. */
export const PERSONAL_DATA_KEK_LABEL = 'eseal-web-personal-data-kek';
export const LEGACY_PERSONAL_DATA_KEK_LABEL = 'eseal-personal-data-kek';
/** A new data key for new writes this often; older keys stay to decrypt what they encrypted. */
export const DATA_KEY_ROTATION_MS = 24 * 3600_000;

/** v1 (`pd1:`): one fixed AAD for every value, so a value moved to another row or column went undetected. */
const FIELD_PREFIX_V1 = 'pd1:';
/** v2 (`pd2:`): the AAD names the value's place (table, column, row), so a moved value fails to authenticate. */
const FIELD_PREFIX = 'pd2:';
/** v1 files: magic, 16-byte key id, 12-byte IV, ciphertext, 16-byte tag (one GCM over the whole file). Read only. */
const BLOB_MAGIC_V1 = Buffer.from('ESPD1\n', 'latin1');
const AAD_V1 = Buffer.from('eseal-personal-data-v1');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const bytesToUuid = (b: Buffer) => b.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

function seal(key: Buffer, plain: Buffer, aad: Buffer): { iv: Buffer; tag: Buffer; ct: Buffer } {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return { iv, tag: c.getAuthTag(), ct };
}

function open(key: Buffer, iv: Buffer, tag: Buffer, ct: Buffer, aad: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(aad);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ct), d.final()]);
}

/** Any encrypted value, old or new format. */
export const isEncryptedField = (v: unknown): v is string => typeof v === 'string' && (v.startsWith(FIELD_PREFIX) || v.startsWith(FIELD_PREFIX_V1));
/** Encrypted in the current format, bound to its place (the backfill leaves these alone). */
export const isCurrentField = (v: unknown): v is string => typeof v === 'string' && v.startsWith(FIELD_PREFIX);
const isV1Blob = (b: Buffer) => b.length >= BLOB_MAGIC_V1.length + 44 && b.subarray(0, BLOB_MAGIC_V1.length).equals(BLOB_MAGIC_V1);
export const isEncryptedBlob = (b: Buffer) => isV1Blob(b) || isChunkedBlob(b);

export class PersonalData {
  /** Clear data keys by id: unwrapping in the HSM per field would make every page a round of HSM calls. */
  private readonly keys = new Map<string, Promise<Buffer>>();
  private current?: Promise<{ id: string; key: Buffer }>;
  private currentUntil = 0;
  private lookupKey?: Promise<Buffer>;
  private kekReady?: Promise<unknown>;

  constructor(
    private readonly db: Db,
    private readonly hsmOrNone: Hsm | undefined,
    private readonly opts: { kekLabel?: string; rotationMs?: number } = {},
  ) {}

  /** Only processes holding an HSM session (web, HSM workers) handle personal data in clear. */
  private get hsm(): Hsm {
    if (!this.hsmOrNone) throw new Error('personal data is encrypted with keys held in the HSM: this process has no HSM session');
    return this.hsmOrNone;
  }

  private get kek() {
    return this.opts.kekLabel ?? PERSONAL_DATA_KEK_LABEL;
  }

  private ensureKek() {
    return (this.kekReady ??= this.hsm.ensureAesWrappingKey(this.kek).catch((e) => {
      this.kekReady = undefined;
      throw e;
    }));
  }

  private unwrap(id: string): Promise<Buffer> {
    let p = this.keys.get(id);
    if (!p) {
      p = (async () => {
        const row = await this.db('personal_data_keys').where({ id }).first('wrapped_key', 'kek_label');
        if (!row) throw new Error(`personal data key ${id} does not exist`);
        return this.hsm.unwrapDataKey(row.kek_label, row.wrapped_key);
      })();
      p.catch(() => this.keys.delete(id));
      this.keys.set(id, p);
    }
    return p;
  }

  /** The data key new writes use: the newest one of the rotation period (shared by all processes), or a new one. */
  private dataKey(): Promise<{ id: string; key: Buffer }> {
    if (!this.current || this.currentUntil <= Date.now()) {
      this.currentUntil = Infinity; // while loading, every caller shares the same promise
      const loading = this.loadOrCreateDataKey().then((k) => {
        this.currentUntil = k.until;
        return k;
      });
      loading.catch(() => {
        if (this.current === loading) this.current = undefined;
      });
      this.current = loading;
    }
    return this.current;
  }

  private async loadOrCreateDataKey(): Promise<{ id: string; key: Buffer; until: number }> {
    const now = Date.now();
    const rotation = this.opts.rotationMs ?? DATA_KEY_ROTATION_MS;
    const recent = await this.db('personal_data_keys')
      .where({ purpose: 'data' })
      .where('created_at', '>', new Date(now - rotation))
      .orderBy('created_at', 'desc')
      .first('id', 'created_at');
    if (recent) return { id: recent.id as string, key: await this.unwrap(recent.id), until: new Date(recent.created_at).getTime() + rotation };
    await this.ensureKek();
    const { key, wrapped } = await this.hsm.generateDataKey(this.kek);
    const id = randomUUID();
    // Two processes may both create one at a rotation: harmless, each value names its own key.
    await this.db('personal_data_keys').insert({ id, purpose: 'data', kek_label: this.kek, wrapped_key: wrapped, created_at: new Date(now) });
    this.keys.set(id, Promise.resolve(key));
    return { id, key, until: now + rotation };
  }

  /** The HMAC key for lookups: one for the whole platform, created once (the first writer wins). */
  private hmacKey(): Promise<Buffer> {
    return (this.lookupKey ??= (async () => {
      const existing = await this.db('personal_data_keys').where({ purpose: 'lookup' }).first('id');
      if (existing) return this.unwrap(existing.id);
      await this.ensureKek();
      const { wrapped } = await this.hsm.generateDataKey(this.kek);
      await this.db.raw(`insert into personal_data_keys (id, purpose, kek_label, wrapped_key) values (?, 'lookup', ?, ?) on conflict (purpose) where purpose = 'lookup' do nothing`, [randomUUID(), this.kek, wrapped]);
      const winner = await this.db('personal_data_keys').where({ purpose: 'lookup' }).first('id');
      return this.unwrap(winner.id);
    })().catch((e) => {
      this.lookupKey = undefined;
      throw e;
    }));
  }

  /** A value that does not authenticate at its place: logged and audited, then refused (never misread). */
  private async refuse(place: Place, reason: string): Promise<PersonalDataIntegrityError> {
    const e = new PersonalDataIntegrityError(place, reason);
    logger.error({ table: place.table, column: place.column, row: place.row }, `personal data: ${e.message}`);
    try {
      await appendAudit(this.db, { action: 'personal_data.integrity_failure', outcome: 'error', targetType: place.table, targetId: place.row ?? null, details: { table: place.table, column: place.column, reason } });
    } catch (err) {
      logger.error({ err }, 'personal data: could not audit the refusal'); // must not hide the refusal itself
    }
    return e;
  }

  /** `pd2:<key id>:<base64 iv|tag|ciphertext>`, bound to `place` (see ./place.ts); null stays null. */
  async encrypt(value: string, place: Place): Promise<string>;
  async encrypt(value: string | null | undefined, place: Place): Promise<string | null>;
  async encrypt(value: string | null | undefined, place: Place): Promise<string | null> {
    if (value === null || value === undefined) return null;
    const { id, key } = await this.dataKey();
    const { iv, tag, ct } = seal(key, Buffer.from(value, 'utf8'), placeAad(place));
    return `${FIELD_PREFIX}${id}:${Buffer.concat([iv, tag, ct]).toString('base64')}`;
  }

  /**
   * The clear value of what is stored at `place`. A value written before encryption existed (no prefix) is
   * returned as it is, and a `pd1:` value (fixed label, until the backfill rewrites it) is still read.
   */
  async decrypt(stored: string, place: Place): Promise<string>;
  async decrypt(stored: string | null | undefined, place: Place): Promise<string | null>;
  async decrypt(stored: string | null | undefined, place: Place): Promise<string | null> {
    if (stored === null || stored === undefined) return null;
    if (!isEncryptedField(stored)) return stored;
    const v1 = stored.startsWith(FIELD_PREFIX_V1);
    const [, id, body] = stored.split(':');
    if (!id || !UUID.test(id) || !body) throw await this.refuse(place, 'malformed');
    const raw = Buffer.from(body, 'base64');
    if (raw.length < 28) throw await this.refuse(place, 'malformed');
    const key = await this.unwrap(id);
    try {
      return open(key, raw.subarray(0, 12), raw.subarray(12, 28), raw.subarray(28), v1 ? AAD_V1 : placeAad(place)).toString('utf8');
    } catch {
      throw await this.refuse(place, v1 ? 'altered (old format)' : 'altered or another place');
    }
  }

  /** Keyed hash of a resident ID number (already parsed and normalised) for equality lookups. */
  async idLookupHash(idNumber: string): Promise<string> {
    return createHmac('sha256', await this.hmacKey()).update(`resident-id:${idNumber}`, 'utf8').digest('hex');
  }

  /** An ID number as stored at `place`: ciphertext and keyed hash. */
  async protectId(idNumber: string, place: Place): Promise<{ enc: string; hmac: string }>;
  async protectId(idNumber: string | null | undefined, place: Place): Promise<{ enc: string | null; hmac: string | null }>;
  async protectId(idNumber: string | null | undefined, place: Place): Promise<{ enc: string | null; hmac: string | null }> {
    if (idNumber === null || idNumber === undefined) return { enc: null, hmac: null };
    const [enc, hmac] = await Promise.all([this.encrypt(idNumber, place), this.idLookupHash(idNumber)]);
    return { enc, hmac };
  }

  /** A value moved from one place to another (a keeper's ID number into a reset case, a replacement's copy). */
  async reencrypt(stored: string, from: Place, to: Place): Promise<string>;
  async reencrypt(stored: string | null | undefined, from: Place, to: Place): Promise<string | null>;
  async reencrypt(stored: string | null | undefined, from: Place, to: Place): Promise<string | null> {
    return this.encrypt(await this.decrypt(stored, from), to);
  }

  /** A file (material, on-site image) for `place`, as a stream of the chunked format (./stream.ts); errors of `source` carry through. */
  async encryptStream(source: Readable | Buffer, place: Place, chunkBytes = BLOB_CHUNK_BYTES): Promise<Readable> {
    const { id, key } = await this.dataKey();
    return Readable.from(encryptChunks(Buffer.isBuffer(source) ? Readable.from([source], { objectMode: false }) : source, key, id, place, chunkBytes), { objectMode: false });
  }

  /** The same whole, for small files and tests. */
  async encryptBlob(bytes: Buffer, place: Place): Promise<Buffer> {
    const out: Buffer[] = [];
    for await (const c of await this.encryptStream(bytes, place)) out.push(c as Buffer);
    return Buffer.concat(out);
  }

  /**
   * The clear bytes of a stored file, as a stream: chunk by chunk for the current format. Resolves once the
   * first chunk has been authenticated, so that a refused file fails before a response has begun. Files stored
   * before encryption existed (no magic) stream as they are; old single-GCM files (ESPD1) are read whole, as
   * their tag comes last (bounded by the upload limit).
   */
  async decryptStream(source: Readable, place: Place): Promise<Readable> {
    const it = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headLength = 0;
    let ended = false;
    while (headLength < BLOB_MAGIC_V1.length) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
      head.push(b);
      headLength += b.length;
    }
    const rest = async function* () {
      yield* head;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value as Buffer;
      }
    };
    const first = Buffer.concat(head).subarray(0, BLOB_MAGIC_V1.length);
    if (first.equals(BLOB_MAGIC_V1)) {
      const all: Buffer[] = [];
      for await (const c of rest()) all.push(c);
      return Readable.from([await this.decryptBlob(Buffer.concat(all), place)], { objectMode: false });
    }
    if (!first.equals(BLOB_MAGIC)) return Readable.from(rest(), { objectMode: false });
    const clear = decryptChunks(rest(), (keyId) => (UUID.test(keyId) ? this.unwrap(keyId) : Promise.reject(new Error('bad key id'))), place, (reason) => this.refuse(place, reason));
    const firstChunk = await clear.next(); // throws here when the file is refused
    return Readable.from(
      (async function* () {
        if (firstChunk.done) return;
        yield firstChunk.value;
        yield* clear;
      })(),
      { objectMode: false },
    );
  }

  /** The clear file, whole (small files, tests); files stored before encryption existed are returned as they are. */
  async decryptBlob(bytes: Buffer, place: Place): Promise<Buffer> {
    if (isV1Blob(bytes)) {
      let o = BLOB_MAGIC_V1.length;
      const id = bytesToUuid(bytes.subarray(o, (o += 16)));
      const iv = bytes.subarray(o, (o += 12));
      const key = await this.unwrap(id);
      try {
        return open(key, iv, bytes.subarray(bytes.length - 16), bytes.subarray(o, bytes.length - 16), AAD_V1);
      } catch {
        throw await this.refuse(place, 'altered (old format)');
      }
    }
    const out: Buffer[] = [];
    for await (const c of await this.decryptStream(Readable.from([bytes], { objectMode: false }), place)) out.push(c as Buffer);
    return Buffer.concat(out);
  }
}

const instances = new WeakMap<Db, PersonalData>();
const byHsm = new WeakMap<Hsm, WeakMap<Db, PersonalData>>();

/**
 * The process's PersonalData for these connections (one key cache per HSM adapter and database). Without an
 * HSM, values stored before encryption existed can still be read; anything needing a key fails clearly.
 */
export function personalData(deps: { db: Db; hsm?: Hsm }): PersonalData {
  let cache = instances;
  if (deps.hsm) {
    cache = byHsm.get(deps.hsm) ?? new WeakMap();
    byHsm.set(deps.hsm, cache);
  }
  let pd = cache.get(deps.db);
  if (!pd) cache.set(deps.db, (pd = new PersonalData(deps.db, deps.hsm)));
  return pd;
}
