import { createHash, createPublicKey, randomBytes, verify as nodeVerify } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { generateKeyWithArrayTemplate, readArrayAttribute, type ArrayTemplate } from './array-attributes';
import { countHsmOperation } from '../observability/metrics';
import { inSpan } from '../observability/spans';

type Handle = pkcs11js.Handle;

export interface HsmOpenOptions {
  modulePath: string;
  tokenLabel: string;
  pin: string;
  /** Sessions kept open for concurrent operations (default 4). */
  maxSessions?: number;
}

export interface HsmStatus {
  loggedIn: boolean;
  canSign: boolean;
  tokenLabel: string;
  detail?: string;
}

export interface KeyAttributes {
  sensitive: boolean;
  extractable: boolean;
  neverExtractable: boolean;
  alwaysSensitive: boolean;
}

const CKS_RW_USER_FUNCTIONS = 3; // not exported by pkcs11js
/** DER OID 1.2.840.10045.3.1.7 (prime256v1), the CKA_EC_PARAMS value for P-256. */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
/** SubjectPublicKeyInfo prefix for id-ecPublicKey/P-256 followed by a 65-byte uncompressed point. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** Deterministic CKA_ID: every process derives the same id for a label, so duplicates are easy to spot. */
export function keyIdForLabel(label: string): Buffer {
  return createHash('sha256').update(`eseal-hsm-key:${label}`).digest().subarray(0, 16);
}

/** Converts a raw r||s ECDSA signature (PKCS#11 / WebCrypto format) to DER `ECDSA-Sig-Value`. */
export function toDerEcdsaSignature(raw: Buffer): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new Error(`raw ECDSA signature has odd length ${raw.length}`);
  const derInt = (bytes: Buffer): Buffer => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let v = bytes.subarray(i);
    if (v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const half = raw.length / 2;
  const body = Buffer.concat([derInt(raw.subarray(0, half)), derInt(raw.subarray(half))]);
  const len = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([0x30]), len, body]);
}

/** SPKI DER for a P-256 key from CKA_EC_POINT (DER OCTET STRING per spec; some HSMs return the bare point). */
export function p256SpkiFromEcPoint(ecPoint: Buffer): Buffer {
  let point = ecPoint;
  if (point.length === 67 && point[0] === 0x04 && point[1] === 0x41) point = point.subarray(2);
  if (point.length !== 65 || point[0] !== 0x04) throw new Error('CKA_EC_POINT is not an uncompressed P-256 point');
  return Buffer.concat([P256_SPKI_PREFIX, point]);
}

/** A CK_ULONG as the token returns it (native byte order, here little-endian). */
function ulongBuffer(n: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  if (size === 8) b.writeBigUInt64LE(BigInt(n));
  else b.writeUInt32LE(n);
  return b;
}

function errorCode(e: unknown): number | undefined {
  return e instanceof pkcs11js.Pkcs11Error ? e.code : undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// C_Initialize/C_Finalize are per process and per module; Hsm instances share them by reference count.
const modules = new Map<string, { lib: pkcs11js.PKCS11; refs: number }>();

function acquireModule(modulePath: string): pkcs11js.PKCS11 {
  let entry = modules.get(modulePath);
  if (!entry) {
    const lib = new pkcs11js.PKCS11();
    lib.load(modulePath);
    try {
      // OS locking: the *Async calls run on libuv worker threads.
      lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      if (errorCode(e) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw e;
    }
    entry = { lib, refs: 0 };
    modules.set(modulePath, entry);
  }
  entry.refs++;
  return entry.lib;
}

function releaseModule(modulePath: string): void {
  const entry = modules.get(modulePath);
  if (!entry || --entry.refs > 0) return;
  modules.delete(modulePath);
  try {
    entry.lib.C_Finalize();
  } finally {
    entry.lib.close();
  }
}

/** A data key lives in the HSM only for a moment (session object): readable so Node can use it, extractable so it can be wrapped. */
const DATA_KEY_TEMPLATE: pkcs11js.Template = [
  { type: pkcs11js.CKA_TOKEN, value: false },
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
  { type: pkcs11js.CKA_SENSITIVE, value: false },
  { type: pkcs11js.CKA_EXTRACTABLE, value: true },
];

/**
 * M4: what a seal key unwrapped under a seal wrapping key must be. Stored as that wrapping key's
 * CKA_UNWRAP_TEMPLATE, so the HSM itself refuses any C_UnwrapKey whose template differs (an extractable or
 * readable copy, a secret key, a key that can decrypt or unwrap) whoever calls it with the PIN; and
 * signWithWrappedKey asks for exactly this, whatever its caller. CKA_WRAP_WITH_TRUSTED: even a copy made
 * extractable some other way could be wrapped only by a key the security officer marked trusted.
 */
export const SEAL_KEY_UNWRAP_TEMPLATE: ReadonlyArray<{ type: number; value: number | boolean }> = [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
  { type: pkcs11js.CKA_SENSITIVE, value: true },
  { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  { type: pkcs11js.CKA_WRAP_WITH_TRUSTED, value: true },
  { type: pkcs11js.CKA_SIGN, value: true },
  { type: pkcs11js.CKA_DECRYPT, value: false },
  { type: pkcs11js.CKA_DERIVE, value: false },
  { type: pkcs11js.CKA_UNWRAP, value: false },
];

/**
 * SM2 seal keys (SoftHSM2 has no SM2): the 32-byte private scalar is a generic secret that only ever exists
 * wrapped under a token AES key carrying this CKA_UNWRAP_TEMPLATE. The software SM2 module (sm2-module.ts)
 * must read the scalar to sign, so the unwrapped copy is readable (PKCS#11 reads CKA_VALUE only of a key
 * that is neither sensitive nor non-extractable); the template keeps it a session object (never on the
 * token), wrappable only by a key the security officer marked trusted (CKA_WRAP_WITH_TRUSTED) and good for
 * nothing in the HSM (no encrypt, decrypt, sign, wrap, unwrap or derive), whoever holds the PIN.
 */
export const SM2_KEY_UNWRAP_TEMPLATE: ReadonlyArray<{ type: number; value: number | boolean }> = [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
  { type: pkcs11js.CKA_TOKEN, value: false },
  { type: pkcs11js.CKA_WRAP_WITH_TRUSTED, value: true },
  { type: pkcs11js.CKA_ENCRYPT, value: false },
  { type: pkcs11js.CKA_DECRYPT, value: false },
  { type: pkcs11js.CKA_SIGN, value: false },
  { type: pkcs11js.CKA_VERIFY, value: false },
  { type: pkcs11js.CKA_WRAP, value: false },
  { type: pkcs11js.CKA_UNWRAP, value: false },
  { type: pkcs11js.CKA_DERIVE, value: false },
];

type KeyKind = 'ec' | 'aes';
interface KeyHandles {
  key: Handle; // private key (ec) or secret key (aes)
  pub?: Handle;
}

export class Hsm {
  readonly tokenLabel: string;
  private readonly idle: Handle[] = [];
  private readonly waiters: Array<{ resolve: (s: Handle) => void; reject: (e: unknown) => void }> = [];
  private sessionCount = 0;
  private busy = 0;
  private closed = false;
  private drained?: () => void;
  private readonly handles = new Map<string, KeyHandles>();
  private readonly labelLocks = new Map<string, Promise<unknown>>();
  private readonly verifiedSealWrapping = new Set<string>();
  /** How long ensure* waits for a concurrent creator (another process) to settle before giving up. */
  raceTimeoutMs = 10_000;

  private constructor(
    private readonly lib: pkcs11js.PKCS11,
    private readonly modulePath: string,
    private readonly slot: Handle,
    private readonly pin: string,
    private readonly maxSessions: number,
    tokenLabel: string,
  ) {
    this.tokenLabel = tokenLabel;
  }

  static async open(opts: HsmOpenOptions): Promise<Hsm> {
    for (let attempt = 1; ; attempt++) {
      const lib = acquireModule(opts.modulePath);
      try {
        const labels: string[] = [];
        const slots: Handle[] = [];
        for (const s of lib.C_GetSlotList(true)) {
          const label = lib.C_GetTokenInfo(s).label.trimEnd();
          labels.push(label);
          if (label === opts.tokenLabel) slots.push(s);
        }
        if (slots.length !== 1) {
          const err = new Error(
            `${slots.length ? 'several' : 'no'} PKCS#11 tokens labelled "${opts.tokenLabel}" (found: ${labels.join(', ') || 'none'})`,
          );
          // SoftHSM scans its token directory only in C_Initialize and silently skips a token whose files
          // another process is rewriting at that moment; re-initialising (if nobody else here uses it) helps.
          if (slots.length === 0 && attempt < 5 && modules.get(opts.modulePath)?.refs === 1) {
            releaseModule(opts.modulePath);
            await sleep(50 * attempt);
            continue;
          }
          throw err;
        }
        const hsm = new Hsm(lib, opts.modulePath, slots[0], opts.pin, Math.max(1, opts.maxSessions ?? 4), opts.tokenLabel);
        // Open and log in one session now so a wrong PIN fails here rather than on first use.
        hsm.release(hsm.openSession());
        return hsm;
      } catch (e) {
        releaseModule(opts.modulePath);
        throw e;
      }
    }
  }

  /** Waits for in-flight operations, closes all sessions and finalises the module when no other Hsm uses it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('HSM adapter is closed'));
    if (this.busy > 0) await new Promise<void>((r) => (this.drained = r));
    for (const s of this.idle.splice(0)) this.closeSession(s);
    releaseModule(this.modulePath);
  }

  // ---------- session pool ----------

  private openSession(): Handle {
    const s = this.lib.C_OpenSession(this.slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
    this.sessionCount++;
    try {
      this.lib.C_Login(s, pkcs11js.CKU_USER, this.pin);
    } catch (e) {
      // Login state is per application and token, so sessions after the first are already logged in.
      if (errorCode(e) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
        this.closeSession(s);
        throw e;
      }
    }
    this.busy++;
    return s;
  }

  private closeSession(s: Handle): void {
    this.sessionCount--;
    try {
      this.lib.C_CloseSession(s);
    } catch {
      /* already gone */
    }
  }

  private acquire(): Promise<Handle> {
    if (this.closed) return Promise.reject(new Error('HSM adapter is closed'));
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.pump();
    });
  }

  /** Hands idle sessions (or new ones, up to maxSessions) to waiters in FIFO order. */
  private pump(): void {
    while (this.waiters.length > 0) {
      const s = this.idle.pop();
      if (s) {
        this.busy++;
        this.waiters.shift()!.resolve(s);
      } else if (this.sessionCount < this.maxSessions) {
        const w = this.waiters.shift()!;
        try {
          w.resolve(this.openSession());
        } catch (e) {
          w.reject(e);
        }
      } else {
        return;
      }
    }
  }

  private release(s: Handle, broken = false): void {
    this.busy--;
    // After an error an operation may still be active on the session: replace it rather than reuse it.
    if (broken) this.closeSession(s);
    else this.idle.push(s);
    if (this.busy === 0 && this.drained) this.drained();
    this.pump();
  }

  /** Runs fn with an exclusive session: PKCS#11 allows one active operation per session. */
  private async withSession<T>(fn: (s: Handle) => T | Promise<T>): Promise<T> {
    const s = await this.acquire();
    try {
      const result = await fn(s);
      this.release(s);
      return result;
    } catch (e) {
      this.release(s, true);
      throw e;
    }
  }

  // ---------- object lookup ----------

  private find(s: Handle, template: pkcs11js.Template): Handle[] {
    this.lib.C_FindObjectsInit(s, template);
    try {
      return this.lib.C_FindObjects(s, 64);
    } finally {
      this.lib.C_FindObjectsFinal(s);
    }
  }

  private findByLabel(s: Handle, cls: number, label: string): Handle[] {
    return this.find(s, [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_CLASS, value: cls },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
  }

  private attr(s: Handle, obj: Handle, type: number): Buffer {
    return this.lib.C_GetAttributeValue(s, obj, [{ type }])[0].value;
  }

  /** 'none' | 'ambiguous' (several objects share the label: a concurrent creator has not settled yet) | the handles. */
  private lookup(s: Handle, label: string, kind: KeyKind): KeyHandles | 'none' | 'ambiguous' {
    const keys = this.findByLabel(s, kind === 'ec' ? pkcs11js.CKO_PRIVATE_KEY : pkcs11js.CKO_SECRET_KEY, label);
    if (keys.length === 0) return 'none';
    if (keys.length > 1) return 'ambiguous';
    const keyType = this.attr(s, keys[0], pkcs11js.CKA_KEY_TYPE).readUIntLE(0, 4);
    const expected = kind === 'ec' ? pkcs11js.CKK_EC : pkcs11js.CKK_AES;
    if (keyType !== expected) throw new Error(`token key "${label}" has key type ${keyType}, expected ${expected}`);
    if (kind === 'aes') return { key: keys[0] };
    const pubs = this.findByLabel(s, pkcs11js.CKO_PUBLIC_KEY, label);
    if (pubs.length !== 1) return 'ambiguous';
    if (!this.attr(s, pubs[0], pkcs11js.CKA_EC_PARAMS).equals(P256_PARAMS)) {
      throw new Error(`token key "${label}" is not on curve P-256`);
    }
    return { key: keys[0], pub: pubs[0] };
  }

  private async generate(s: Handle, label: string, kind: KeyKind, unwrapTemplate?: ArrayTemplate): Promise<KeyHandles> {
    const common = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: keyIdForLabel(label) },
    ];
    const secret = [
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    ];
    if (kind === 'aes') {
      const template = [
        ...common,
        ...secret,
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_WRAP, value: true },
        { type: pkcs11js.CKA_UNWRAP, value: true },
        { type: pkcs11js.CKA_ENCRYPT, value: false },
        { type: pkcs11js.CKA_DECRYPT, value: false },
        { type: pkcs11js.CKA_SIGN, value: false },
        { type: pkcs11js.CKA_VERIFY, value: false },
      ];
      // pkcs11js cannot pass an attribute array, so a key with an unwrap template is generated through koffi.
      if (unwrapTemplate) {
        const flat = template.map((a) => ({ type: a.type, value: a.value as number | boolean | string | Buffer }));
        return { key: generateKeyWithArrayTemplate(this.modulePath, s, pkcs11js.CKM_AES_KEY_GEN, [...flat, { type: pkcs11js.CKA_UNWRAP_TEMPLATE, value: unwrapTemplate }]) };
      }
      const key = await this.lib.C_GenerateKeyAsync(s, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, template);
      return { key };
    }
    const pair = await this.lib.C_GenerateKeyPairAsync(
      s,
      { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
      [
        ...common,
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
        { type: pkcs11js.CKA_EC_PARAMS, value: P256_PARAMS },
        { type: pkcs11js.CKA_VERIFY, value: true },
        { type: pkcs11js.CKA_ENCRYPT, value: false },
        { type: pkcs11js.CKA_WRAP, value: false },
      ],
      [
        ...common,
        ...secret,
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
        { type: pkcs11js.CKA_SIGN, value: true },
        // SoftHSM defaults these to true; a signing key should do nothing else.
        { type: pkcs11js.CKA_DECRYPT, value: false },
        { type: pkcs11js.CKA_UNWRAP, value: false },
        { type: pkcs11js.CKA_DERIVE, value: false },
      ],
    );
    return { key: pair.privateKey, pub: pair.publicKey };
  }

  /** Serialises ensure* per label inside this process; cross-process races are handled in ensureKey. */
  private serialize<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.labelLocks.get(label) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.labelLocks.set(label, tail);
    void tail.then(() => this.labelLocks.get(label) === tail && this.labelLocks.delete(label));
    return next;
  }

  /**
   * Find-or-create without a cross-process lock (PKCS#11 has no "create if absent").
   * Protocol, run by every process:
   *  1. look up by label; exactly one key -> use it; several -> another creator is mid-race, wait and retry.
   *  2. none -> generate (label + deterministic CKA_ID), then look up again.
   *  3. if ours is the only key with the label we won; otherwise destroy *our own* pair and go back to 1.
   * A key is only ever destroyed by its creator and only before that creator returned it, so a key that
   * anyone has returned is never deleted, and two surviving keys are impossible unless a creator crashed
   * between steps 2 and 3 (then lookups stay 'ambiguous' and we fail after raceTimeoutMs: clean up by hand).
   */
  private ensureKey(label: string, kind: KeyKind, unwrapTemplate?: ArrayTemplate): Promise<KeyHandles & { created: boolean }> {
    const cacheKey = `${kind}:${label}`;
    const cached = this.handles.get(cacheKey);
    if (cached) return Promise.resolve({ ...cached, created: false });
    return this.serialize(cacheKey, async () => {
      const again = this.handles.get(cacheKey);
      if (again) return { ...again, created: false };
      const deadline = Date.now() + this.raceTimeoutMs;
      for (;;) {
        const found = await this.withSession((s) => this.lookup(s, label, kind));
        if (found === 'none') {
          const mine = await this.withSession((s) => this.generate(s, label, kind, unwrapTemplate));
          const won = await this.withSession((s) => {
            const keys = this.findByLabel(s, kind === 'ec' ? pkcs11js.CKO_PRIVATE_KEY : pkcs11js.CKO_SECRET_KEY, label);
            if (keys.length === 1 && keys[0].equals(mine.key)) return true;
            this.lib.C_DestroyObject(s, mine.key); // private first: the key count is what others decide on
            if (mine.pub) this.lib.C_DestroyObject(s, mine.pub);
            return false;
          });
          if (won) {
            this.handles.set(cacheKey, mine);
            return { ...mine, created: true };
          }
        } else if (found !== 'ambiguous') {
          this.handles.set(cacheKey, found);
          return { ...found, created: false };
        }
        if (Date.now() > deadline) {
          throw new Error(`token objects labelled "${label}" did not settle (several keys, or a private key without its public key): clean up by hand`);
        }
        await sleep(20 + Math.random() * 150); // jitter so racing creators do not collide again
      }
    });
  }

  /** Runs fn with the key's handles; if another process deleted the object, drop the cached handle and retry once. */
  private async withKey<T>(label: string, kind: KeyKind, fn: (s: Handle, h: KeyHandles) => T | Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const h = this.handles.get(`${kind}:${label}`) ?? (await this.existing(label, kind));
      try {
        return await this.withSession((s) => fn(s, h));
      } catch (e) {
        const code = errorCode(e);
        // SoftHSM forgets every handle of a slot when its last session closes (e.g. one closed after an error).
        const stale =
          code === pkcs11js.CKR_OBJECT_HANDLE_INVALID ||
          code === pkcs11js.CKR_KEY_HANDLE_INVALID ||
          code === pkcs11js.CKR_WRAPPING_KEY_HANDLE_INVALID ||
          code === pkcs11js.CKR_UNWRAPPING_KEY_HANDLE_INVALID;
        if (!stale || attempt > 0) throw e;
        this.handles.delete(`${kind}:${label}`);
      }
    }
  }

  private async existing(label: string, kind: KeyKind): Promise<KeyHandles> {
    const found = await this.withSession((s) => this.lookup(s, label, kind));
    if (found === 'none') throw new Error(`no ${kind === 'ec' ? 'EC key pair' : 'AES key'} labelled "${label}" on the token`);
    if (found === 'ambiguous') throw new Error(`token objects labelled "${label}" are ambiguous (several keys, or no single public key)`);
    this.handles.set(`${kind}:${label}`, found);
    return found;
  }

  // ---------- public API ----------

  /** Finds or generates a token P-256 key pair (private key sensitive, never extractable, sign-only). */
  async ensureEcKeyPair(label: string): Promise<{ publicKeySpki: Buffer; created: boolean }> {
    const { created } = await this.ensureKey(label, 'ec');
    return { publicKeySpki: await this.publicKeySpki(label), created };
  }

  /** Finds or generates a token AES-256 key usable only for wrap/unwrap. */
  async ensureAesWrappingKey(label: string): Promise<{ created: boolean }> {
    const { created } = await this.ensureKey(label, 'aes');
    return { created };
  }

  /**
   * M4: finds or generates the token AES key that wraps seal keys, carrying {@link SEAL_KEY_UNWRAP_TEMPLATE}
   * as its CKA_UNWRAP_TEMPLATE. A key of that label without the template (made some other way) is refused.
   */
  async ensureSealWrappingKey(label: string): Promise<{ created: boolean }> {
    return this.ensureWrappingKeyWithTemplate(label, SEAL_KEY_UNWRAP_TEMPLATE, 'sensitive, non-extractable and sign-only');
  }

  /** Finds or generates the token AES key that wraps SM2 private scalars, carrying {@link SM2_KEY_UNWRAP_TEMPLATE}. */
  async ensureSm2WrappingKey(label: string): Promise<{ created: boolean }> {
    return this.ensureWrappingKeyWithTemplate(label, SM2_KEY_UNWRAP_TEMPLATE, 'session-only generic secrets wrappable only by trusted keys');
  }

  private async ensureWrappingKeyWithTemplate(
    label: string,
    wanted: ReadonlyArray<{ type: number; value: number | boolean }>,
    what: string,
  ): Promise<{ created: boolean }> {
    const { created } = await this.ensureKey(label, 'aes', [...wanted]);
    if (this.verifiedSealWrapping.has(label)) return { created };
    const template = await this.unwrapTemplate(label);
    const missing = wanted.filter((want) => {
      const got = template.find((a) => a.type === want.type)?.value;
      return !got || !got.equals(typeof want.value === 'boolean' ? Buffer.from([want.value ? 1 : 0]) : ulongBuffer(want.value, got.length));
    });
    if (missing.length > 0) {
      throw new Error(`token key "${label}" has no CKA_UNWRAP_TEMPLATE making unwrapped keys ${what}: it was not made by this version; delete it on the token (no key may be wrapped under it) and start again`);
    }
    this.verifiedSealWrapping.add(label); // checked once per process: a token key's template cannot change
    return { created };
  }

  /** The CKA_UNWRAP_TEMPLATE of a token AES key, attribute by attribute (raw values); empty when it has none. */
  async unwrapTemplate(label: string): Promise<Array<{ type: number; value: Buffer }>> {
    return this.withKey(label, 'aes', (s, h) => readArrayAttribute(this.modulePath, s, h.key, pkcs11js.CKA_UNWRAP_TEMPLATE));
  }

  /** Whether the token holds a secret key with this label. */
  async hasSecretKey(label: string): Promise<boolean> {
    return this.withSession((s) => this.findByLabel(s, pkcs11js.CKO_SECRET_KEY, label).length > 0);
  }

  /** Destroys every token secret key with this label (a retired wrapping key). */
  async destroySecretKey(label: string): Promise<number> {
    this.handles.delete(`aes:${label}`);
    this.verifiedSealWrapping.delete(label);
    return this.withSession((s) => {
      const keys = this.findByLabel(s, pkcs11js.CKO_SECRET_KEY, label);
      for (const k of keys) this.lib.C_DestroyObject(s, k);
      return keys.length;
    });
  }

  /**
   * Moves a wrapped seal key from an old wrapping key (made before unwrap templates, so it lets a key out
   * extractable) to a new one: unwrapped inside the HSM as a sensitive session object, extractable only so it
   * can be wrapped again, wrapped, destroyed. Under a wrapping key with the template the HSM refuses this.
   */
  async rewrapEcKey(fromLabel: string, toLabel: string, wrappedPrivateKey: Buffer): Promise<Buffer> {
    const to = this.handles.get(`aes:${toLabel}`) ?? (await this.existing(toLabel, 'aes'));
    return this.withKey(fromLabel, 'aes', (s, from) => {
      const key = this.lib.C_UnwrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, from.key, wrappedPrivateKey, [
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: true },
        { type: pkcs11js.CKA_SIGN, value: true },
      ]);
      try {
        return Buffer.from(this.lib.C_WrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, to.key, key, Buffer.alloc(1024)));
      } finally {
        this.lib.C_DestroyObject(s, key);
      }
    });
  }

  /** SHA-256 in Node, then CKM_ECDSA in the HSM (SoftHSM 2.6 has no CKM_ECDSA_SHA256). Returns raw r||s. */
  async signEcdsaSha256(label: string, data: Buffer | Uint8Array): Promise<Buffer> {
    const digest = createHash('sha256').update(data).digest();
    return this.withKey(label, 'ec', (s, h) => {
      this.lib.C_SignInit(s, { mechanism: pkcs11js.CKM_ECDSA }, h.key);
      return this.lib.C_SignAsync(s, digest, Buffer.alloc(132));
    });
  }

  /**
   * A per-seal P-256 key pair (M4 at a million seals): generated inside the HSM as session objects; the
   * private key leaves the HSM only wrapped (CKM_AES_KEY_WRAP_PAD) under the non-extractable token AES key
   * `wrappingLabel`, and both session objects are destroyed before returning. Nothing is written to the
   * token, so generation does not slow down as seals accumulate (a token object is one file in SoftHSM).
   */
  async generateWrappedEcKeyPair(wrappingLabel: string): Promise<{ wrappedPrivateKey: Buffer; publicKeySpki: Buffer }> {
    return this.withKey(wrappingLabel, 'aes', async (s, wrap) => {
      const pair = await this.lib.C_GenerateKeyPairAsync(
        s,
        { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
        [
          { type: pkcs11js.CKA_TOKEN, value: false },
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
          { type: pkcs11js.CKA_EC_PARAMS, value: P256_PARAMS },
          { type: pkcs11js.CKA_VERIFY, value: true },
        ],
        [
          { type: pkcs11js.CKA_TOKEN, value: false },
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
          // Sensitive: never readable in clear. Extractable only so that it can be wrapped.
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_EXTRACTABLE, value: true },
          { type: pkcs11js.CKA_SIGN, value: true },
          { type: pkcs11js.CKA_DECRYPT, value: false },
          { type: pkcs11js.CKA_DERIVE, value: false },
        ],
      );
      try {
        const publicKeySpki = p256SpkiFromEcPoint(this.attr(s, pair.publicKey, pkcs11js.CKA_EC_POINT));
        const wrapped = this.lib.C_WrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, wrap.key, pair.privateKey, Buffer.alloc(1024));
        return { wrappedPrivateKey: Buffer.from(wrapped), publicKeySpki };
      } finally {
        this.lib.C_DestroyObject(s, pair.privateKey);
        this.lib.C_DestroyObject(s, pair.publicKey);
      }
    });
  }

  /**
   * Signs with a wrapped per-seal key: unwrapped inside the HSM as {@link SEAL_KEY_UNWRAP_TEMPLATE} (sensitive,
   * not extractable, sign-only; the wrapping key's own template enforces the same), used, destroyed.
   */
  async signWithWrappedKey(wrappingLabel: string, wrappedPrivateKey: Buffer, data: Buffer | Uint8Array): Promise<Buffer> {
    const digest = createHash('sha256').update(data).digest();
    return this.withKey(wrappingLabel, 'aes', async (s, wrap) => {
      const key = this.lib.C_UnwrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, wrap.key, wrappedPrivateKey, [
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        ...SEAL_KEY_UNWRAP_TEMPLATE,
      ]);
      try {
        this.lib.C_SignInit(s, { mechanism: pkcs11js.CKM_ECDSA }, key);
        return await this.lib.C_SignAsync(s, digest, Buffer.alloc(132));
      } finally {
        this.lib.C_DestroyObject(s, key);
      }
    });
  }

  /**
   * Wraps an SM2 private scalar made by the software module (CKM_AES_KEY_WRAP_PAD under `wrappingLabel`):
   * it enters the HSM as a short-lived session generic secret, leaves it only wrapped, and is destroyed.
   */
  async wrapSm2PrivateKey(wrappingLabel: string, scalar: Buffer): Promise<Buffer> {
    return this.withKey(wrappingLabel, 'aes', (s, wrap) => {
      const key = this.lib.C_CreateObject(s, [
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: true },
        { type: pkcs11js.CKA_VALUE, value: scalar },
      ]);
      try {
        return Buffer.from(this.lib.C_WrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, wrap.key, key, Buffer.alloc(256)));
      } finally {
        this.lib.C_DestroyObject(s, key);
      }
    });
  }

  /**
   * The clear SM2 scalar of a wrapped key, for one operation of the software module: unwrapped as exactly
   * {@link SM2_KEY_UNWRAP_TEMPLATE} (the wrapping key's own template refuses anything else), read, destroyed.
   * The caller zeroes the returned buffer after use.
   */
  async unwrapSm2PrivateKey(wrappingLabel: string, wrapped: Buffer): Promise<Buffer> {
    return this.withKey(wrappingLabel, 'aes', (s, wrap) => {
      const key = this.lib.C_UnwrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, wrap.key, wrapped, [
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: false },
        { type: pkcs11js.CKA_EXTRACTABLE, value: true },
        ...SM2_KEY_UNWRAP_TEMPLATE,
      ]);
      try {
        return Buffer.from(this.attr(s, key, pkcs11js.CKA_VALUE));
      } finally {
        this.lib.C_DestroyObject(s, key);
      }
    });
  }

  /**
   * Envelope encryption (P1): a fresh AES-256 data key generated in the HSM, returned in clear (to encrypt in
   * Node) and wrapped (CKM_AES_KEY_WRAP_PAD) under the non-extractable token key `wrappingLabel` (to store).
   */
  async generateDataKey(wrappingLabel: string): Promise<{ key: Buffer; wrapped: Buffer }> {
    return this.withKey(wrappingLabel, 'aes', async (s, wrap) => {
      const key = await this.lib.C_GenerateKeyAsync(s, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        ...DATA_KEY_TEMPLATE,
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      ]);
      try {
        const wrapped = Buffer.from(this.lib.C_WrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, wrap.key, key, Buffer.alloc(64)));
        return { key: Buffer.from(this.attr(s, key, pkcs11js.CKA_VALUE)), wrapped };
      } finally {
        this.lib.C_DestroyObject(s, key);
      }
    });
  }

  /** The clear value of a data key wrapped by {@link generateDataKey} (unwrapped as a session object, read, destroyed). */
  async unwrapDataKey(wrappingLabel: string, wrapped: Buffer): Promise<Buffer> {
    return this.withKey(wrappingLabel, 'aes', (s, wrap) => {
      const key = this.lib.C_UnwrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, wrap.key, wrapped, DATA_KEY_TEMPLATE);
      try {
        return Buffer.from(this.attr(s, key, pkcs11js.CKA_VALUE));
      } finally {
        this.lib.C_DestroyObject(s, key);
      }
    });
  }

  /**
   * Wraps a data key given in clear (one unwrapped from another token's KEK) under the token key
   * `wrappingLabel`: imported as a session object only to be wrapped, then destroyed (M4: moving the keys of
   * personal data to the web token; they are in Node's memory in clear whenever they are used anyway).
   */
  async wrapDataKey(wrappingLabel: string, key: Buffer): Promise<Buffer> {
    return this.withKey(wrappingLabel, 'aes', (s, wrap) => {
      const obj = this.lib.C_CreateObject(s, [...DATA_KEY_TEMPLATE, { type: pkcs11js.CKA_VALUE, value: key }]);
      try {
        return Buffer.from(this.lib.C_WrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, wrap.key, obj, Buffer.alloc(64)));
      } finally {
        this.lib.C_DestroyObject(s, obj);
      }
    });
  }

  /** Whether the token holds a key pair (private key) with this label. */
  async hasPrivateKey(label: string): Promise<boolean> {
    return this.withSession((s) => this.findByLabel(s, pkcs11js.CKO_PRIVATE_KEY, label).length > 0);
  }

  /** SubjectPublicKeyInfo DER of an existing key pair. */
  async publicKeySpki(label: string): Promise<Buffer> {
    return this.withKey(label, 'ec', (s, h) => p256SpkiFromEcPoint(this.attr(s, h.pub!, pkcs11js.CKA_EC_POINT)));
  }

  async keyAttributes(label: string): Promise<KeyAttributes> {
    const kind: KeyKind = (await this.withSession((s) => this.lookup(s, label, 'ec'))) === 'none' ? 'aes' : 'ec';
    return this.withKey(label, kind, (s, h) => {
      const [sensitive, extractable, neverExtractable, alwaysSensitive] = this.lib
        .C_GetAttributeValue(s, h.key, [
          { type: pkcs11js.CKA_SENSITIVE },
          { type: pkcs11js.CKA_EXTRACTABLE },
          { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
          { type: pkcs11js.CKA_ALWAYS_SENSITIVE },
        ])
        .map((a) => a.value[0] !== 0);
      return { sensitive, extractable, neverExtractable, alwaysSensitive };
    });
  }

  /** Cheap readiness probe: a session of this process is logged in to the token (no signature, nothing created). */
  async loggedIn(): Promise<boolean> {
    return this.withSession((s) => this.lib.C_GetSessionInfo(s).state === CKS_RW_USER_FUNCTIONS);
  }

  /** Readiness probe: session logged in, and a random challenge signed by `keyLabel` verifies in Node. Never throws. */
  async status(keyLabel: string, timeoutMs = 3000): Promise<HsmStatus> {
    const result: HsmStatus = { loggedIn: false, canSign: false, tokenLabel: this.tokenLabel };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => {
          result.loggedIn = await this.withSession((s) => this.lib.C_GetSessionInfo(s).state === CKS_RW_USER_FUNCTIONS);
          const challenge = randomBytes(32);
          const sig = await this.signEcdsaSha256(keyLabel, challenge);
          const key = createPublicKey({ key: await this.publicKeySpki(keyLabel), format: 'der', type: 'spki' });
          result.canSign = nodeVerify('sha256', challenge, { key, dsaEncoding: 'ieee-p1363' }, sig);
          if (!result.canSign) result.detail = `signature by "${keyLabel}" did not verify`;
        })(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`HSM did not answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (e) {
      result.detail = e instanceof Error ? e.message : String(e);
    } finally {
      clearTimeout(timer);
    }
    return result;
  }
}

// Metrics and traces: each operation a caller asks of the token is counted by kind and outcome
// (eseal_hsm_operations_total) and is a span `hsm.<kind>` of the trace it serves, wrapped here once rather than in
// every method.
const COUNTED_OPERATIONS = ['signEcdsaSha256', 'signWithWrappedKey', 'generateWrappedEcKeyPair', 'rewrapEcKey', 'generateDataKey', 'unwrapDataKey', 'ensureEcKeyPair', 'ensureAesWrappingKey', 'ensureSealWrappingKey', 'publicKeySpki', 'status'] as const;
for (const kind of COUNTED_OPERATIONS) {
  const operation = Hsm.prototype[kind] as (...args: unknown[]) => Promise<unknown>;
  (Hsm.prototype as unknown as Record<string, unknown>)[kind] = function (this: Hsm, ...args: unknown[]) {
    return countHsmOperation(kind, () => inSpan(`hsm.${kind}`, { 'hsm.operation': kind }, () => operation.apply(this, args)));
  };
}
