// Personal data at rest (P1): envelope encryption. AES-256-GCM data keys encrypt fields and files in Node;
// each data key is stored only wrapped by the token key `eseal-personal-data-kek` (AES, sensitive, never
// extractable), so a database dump, a copy of the blob folder or a backup reveals nothing without the HSM.
// ID numbers are also stored as a keyed hash (HMAC-SHA256, its key wrapped the same way) so that lookups by
// ID number work without decrypting every row.
import { pipeline, type Readable, Transform } from 'node:stream';
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../db';
import type { Hsm } from '../hsm/hsm';

export const PERSONAL_DATA_KEK_LABEL = 'eseal-personal-data-kek';
/** A new data key for new writes this often; older keys stay to decrypt what they encrypted. */
export const DATA_KEY_ROTATION_MS = 24 * 3600_000;

const FIELD_PREFIX = 'pd1:';
/** Files: magic, 16-byte key id, 12-byte IV, ciphertext, 16-byte tag (last, so that files can be encrypted as streams). */
const BLOB_MAGIC = Buffer.from('ESPD1\n', 'latin1');
/** Bytes an encrypted file has beyond its clear content (magic, key id, IV, tag). */
export const BLOB_OVERHEAD = BLOB_MAGIC.length + 16 + 12 + 16;
const AAD = Buffer.from('eseal-personal-data-v1');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const uuidToBytes = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex');
const bytesToUuid = (b: Buffer) => b.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

function seal(key: Buffer, plain: Buffer): { iv: Buffer; tag: Buffer; ct: Buffer } {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(AAD);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return { iv, tag: c.getAuthTag(), ct };
}

function open(key: Buffer, iv: Buffer, tag: Buffer, ct: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(AAD);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ct), d.final()]);
}

export const isEncryptedField = (v: unknown): v is string => typeof v === 'string' && v.startsWith(FIELD_PREFIX);
export const isEncryptedBlob = (b: Buffer) => b.length >= BLOB_MAGIC.length + 44 && b.subarray(0, BLOB_MAGIC.length).equals(BLOB_MAGIC);

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

  /** `pd1:<key id>:<base64 iv|tag|ciphertext>`; null stays null. */
  async encrypt(value: string): Promise<string>;
  async encrypt(value: string | null | undefined): Promise<string | null>;
  async encrypt(value: string | null | undefined): Promise<string | null> {
    if (value === null || value === undefined) return null;
    const { id, key } = await this.dataKey();
    const { iv, tag, ct } = seal(key, Buffer.from(value, 'utf8'));
    return `${FIELD_PREFIX}${id}:${Buffer.concat([iv, tag, ct]).toString('base64')}`;
  }

  /** The clear value; a value written before encryption existed (not `pd1:`) is returned as it is. */
  async decrypt(stored: string): Promise<string>;
  async decrypt(stored: string | null | undefined): Promise<string | null>;
  async decrypt(stored: string | null | undefined): Promise<string | null> {
    if (stored === null || stored === undefined) return null;
    if (!isEncryptedField(stored)) return stored;
    const [, id, body] = stored.split(':');
    if (!id || !UUID.test(id) || !body) throw new Error('malformed encrypted field');
    const raw = Buffer.from(body, 'base64');
    return open(await this.unwrap(id), raw.subarray(0, 12), raw.subarray(12, 28), raw.subarray(28)).toString('utf8');
  }

  /** Keyed hash of a resident ID number (already parsed and normalised) for equality lookups. */
  async idLookupHash(idNumber: string): Promise<string> {
    return createHmac('sha256', await this.hmacKey()).update(`resident-id:${idNumber}`, 'utf8').digest('hex');
  }

  /** An ID number as stored: ciphertext and keyed hash. */
  async protectId(idNumber: string): Promise<{ enc: string; hmac: string }>;
  async protectId(idNumber: string | null | undefined): Promise<{ enc: string | null; hmac: string | null }>;
  async protectId(idNumber: string | null | undefined): Promise<{ enc: string | null; hmac: string | null }> {
    if (idNumber === null || idNumber === undefined) return { enc: null, hmac: null };
    const [enc, hmac] = await Promise.all([this.encrypt(idNumber), this.idLookupHash(idNumber)]);
    return { enc, hmac };
  }

  /** A file (material, on-site image) before it reaches the blob store. */
  async encryptBlob(bytes: Buffer): Promise<Buffer> {
    const { id, key } = await this.dataKey();
    const { iv, tag, ct } = seal(key, bytes);
    return Buffer.concat([BLOB_MAGIC, uuidToBytes(id), iv, ct, tag]);
  }

  /** The same as {@link encryptBlob} for a stream (an upload on its way to the store); errors of `source` carry through. */
  async encryptStream(source: Readable): Promise<Readable> {
    const enc = await this.encryptingStream();
    return pipeline(source, enc, () => undefined);
  }

  private async encryptingStream(): Promise<Transform> {
    const { id, key } = await this.dataKey();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(AAD);
    const header = Buffer.concat([BLOB_MAGIC, uuidToBytes(id), iv]);
    let started = false;
    return new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (!started) this.push(header);
        started = true;
        done(null, cipher.update(chunk));
      },
      flush(done) {
        if (!started) this.push(header);
        this.push(cipher.final());
        done(null, cipher.getAuthTag());
      },
    });
  }

  /** The clear file; files stored before encryption existed (no magic) are returned as they are. */
  async decryptBlob(bytes: Buffer): Promise<Buffer> {
    if (!isEncryptedBlob(bytes)) return bytes;
    let o = BLOB_MAGIC.length;
    const id = bytesToUuid(bytes.subarray(o, (o += 16)));
    const iv = bytes.subarray(o, (o += 12));
    return open(await this.unwrap(id), iv, bytes.subarray(bytes.length - 16), bytes.subarray(o, bytes.length - 16));
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
