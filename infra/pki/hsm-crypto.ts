// A WebCrypto provider for @peculiar/x509 that signs with HSM-held keys: `subtle.sign` with a key made by
// hsmSigningKey() goes to the HSM (ECDSA P-256 / SHA-256 only); every other call goes to Node's webcrypto.
import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type BufferSource = webcrypto.BufferSource;
import type { Hsm } from '../hsm/hsm';

const hsmKeys = new WeakMap<object, { hsm: Hsm; label: string }>();

/** A stand-in CryptoKey naming an HSM private key; it carries no key material. */
export function hsmSigningKey(hsm: Hsm, label: string): CryptoKey {
  const key = {
    type: 'private',
    extractable: false,
    algorithm: { name: 'ECDSA', namedCurve: 'P-256' },
    usages: ['sign'],
  };
  hsmKeys.set(key, { hsm, label });
  return key as unknown as CryptoKey;
}

type SignAlgorithm = Parameters<webcrypto.SubtleCrypto['sign']>[0];

async function sign(algorithm: SignAlgorithm, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer> {
  const ref = hsmKeys.get(key);
  if (!ref) return webcrypto.subtle.sign(algorithm as never, key as never, data as never);
  const alg = typeof algorithm === 'string' ? { name: algorithm } : (algorithm as { name: string; hash?: unknown });
  const hash = typeof alg.hash === 'string' ? alg.hash : (alg.hash as { name?: string } | undefined)?.name;
  if (alg.name.toUpperCase() !== 'ECDSA' || hash?.toUpperCase() !== 'SHA-256') {
    throw new Error(`HSM key "${ref.label}" only signs ECDSA with SHA-256, not ${alg.name}/${hash}`);
  }
  const bytes = ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    : Buffer.from(data as ArrayBuffer);
  // WebCrypto's ECDSA signature format is raw r||s, which is what the HSM returns.
  const raw = await ref.hsm.signEcdsaSha256(ref.label, bytes);
  return raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
}

const subtle = new Proxy(webcrypto.subtle, {
  get(target, prop) {
    if (prop === 'sign') return sign;
    const value = Reflect.get(target, prop, target);
    // Node's SubtleCrypto methods check `this`, so bind them to the real instance.
    return typeof value === 'function' ? value.bind(target) : value;
  },
});

export const hsmCrypto = {
  subtle,
  getRandomValues: <T extends ArrayBufferView | null>(array: T): T => webcrypto.getRandomValues(array as never) as T,
  randomUUID: () => webcrypto.randomUUID(),
} as unknown as webcrypto.Crypto;
