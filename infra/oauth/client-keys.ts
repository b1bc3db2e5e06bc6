// U2: the public keys of API clients and their signed JWT assertions (RFC 7523 private_key_jwt), with `jose`.
// A key is registered as a JWK or a PEM (SPKI or a certificate); private keys are refused, never stored.
// Each key type signs with fixed algorithms (no `alg: none`, no HMAC with a public key as secret).
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { decodeJwt, errors, importJWK, jwtVerify, type JWK } from 'jose';

export type ClientKeyAlg = 'ES256' | 'ES384' | 'EdDSA' | 'RSA';

export interface ClientPublicKey {
  jwk: JWK;
  alg: ClientKeyAlg;
}

export class ClientKeyError extends Error {
  constructor(
    readonly zh: string,
    en: string,
  ) {
    super(en);
  }
}

const JWS_ALGS: Record<ClientKeyAlg, string[]> = { ES256: ['ES256'], ES384: ['ES384'], EdDSA: ['EdDSA'], RSA: ['RS256', 'PS256'] };

/** A public key from a JWK object or a PEM string, as the public JWK to store and its algorithm family. */
export function parseClientPublicKey(input: unknown): ClientPublicKey {
  let key: KeyObject;
  try {
    if (typeof input === 'string') {
      if (/PRIVATE KEY/.test(input)) throw new ClientKeyError('是私钥：只提交公钥，私钥留在客户端', 'is a private key: send the public key only; the private key stays with the client');
      if (input.length > 20_000) throw new ClientKeyError('过长', 'is too long');
      key = createPublicKey({ key: input, format: 'pem' });
    } else if (input && typeof input === 'object' && !Array.isArray(input)) {
      const jwk = input as Record<string, unknown>;
      if ('d' in jwk || 'p' in jwk || 'k' in jwk) throw new ClientKeyError('含私钥或对称密钥：只提交公钥', 'holds private or symmetric key material: send the public key only');
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } else {
      throw new ClientKeyError('应为 JWK 对象或 PEM 文本', 'must be a JWK object or a PEM string');
    }
  } catch (e) {
    if (e instanceof ClientKeyError) throw e;
    throw new ClientKeyError('无法读取（应为 JWK 或 PEM 格式的公钥）', 'cannot be read (a public key as JWK or PEM)');
  }
  const jwk = key.export({ format: 'jwk' }) as JWK;
  const type = key.asymmetricKeyType;
  if (type === 'ec' && jwk.crv === 'P-256') return { jwk, alg: 'ES256' };
  if (type === 'ec' && jwk.crv === 'P-384') return { jwk, alg: 'ES384' };
  if (type === 'ed25519') return { jwk, alg: 'EdDSA' };
  if (type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return { jwk, alg: 'RSA' };
  throw new ClientKeyError('类型不支持（可用：EC P-256、P-384、Ed25519、不少于 2048 位的 RSA）', 'is of an unsupported type (EC P-256, P-384, Ed25519, or RSA of 2048 bits or more)');
}

/** The client an assertion claims to come from (its `sub`, unverified: only to find the key to verify with). */
export function assertionSubject(assertion: string): string | null {
  try {
    const claims = decodeJwt(assertion);
    return typeof claims.sub === 'string' ? claims.sub : null;
  } catch {
    return null;
  }
}

export interface VerifiedAssertion {
  jti: string;
  expiresAt: Date;
}

export type AssertionFailure = 'expired' | 'signature' | 'claims' | 'malformed';

export class AssertionError extends Error {
  constructor(
    readonly reason: AssertionFailure,
    readonly zh: string,
    en: string,
  ) {
    super(en);
  }
}

/**
 * RFC 7523 §3: signed by the client's key with its algorithm; iss = sub = the client; aud = the token
 * endpoint; exp required and at most `maxLifetimeSeconds` ahead; jti required (the caller refuses a reuse).
 */
export async function verifyClientAssertion(
  assertion: string,
  key: ClientPublicKey,
  opts: { clientId: string; audience: string; maxLifetimeSeconds: number; toleranceSeconds: number; now: Date },
): Promise<VerifiedAssertion> {
  let payload;
  try {
    const publicKey = await importJWK(key.jwk, JWS_ALGS[key.alg][0]);
    ({ payload } = await jwtVerify(assertion, publicKey, {
      algorithms: JWS_ALGS[key.alg],
      issuer: opts.clientId,
      subject: opts.clientId,
      audience: opts.audience,
      clockTolerance: opts.toleranceSeconds,
      currentDate: opts.now,
      requiredClaims: ['exp', 'jti'],
    }));
  } catch (e) {
    if (e instanceof errors.JWTExpired) throw new AssertionError('expired', '已过期', 'has expired');
    if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JOSEAlgNotAllowed) throw new AssertionError('signature', '签名无法用登记的公钥验证', 'signature does not verify with the registered key');
    if (e instanceof errors.JWTClaimValidationFailed) throw new AssertionError('claims', `声明 ${e.claim} 不符合要求（iss、sub 为客户端标识，aud 为令牌端点地址）`, `claim ${e.claim} is not as required (iss and sub: the client_id; aud: the token endpoint)`);
    throw new AssertionError('malformed', '不是有效的签名 JWT', 'is not a valid signed JWT');
  }
  const nowS = Math.floor(opts.now.getTime() / 1000);
  const exp = payload.exp!;
  if (exp - nowS > opts.maxLifetimeSeconds + opts.toleranceSeconds || (typeof payload.iat === 'number' && exp - payload.iat > opts.maxLifetimeSeconds)) {
    throw new AssertionError('claims', `有效期过长（最多 ${opts.maxLifetimeSeconds} 秒）`, `lives too long (at most ${opts.maxLifetimeSeconds} s)`);
  }
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 200) throw new AssertionError('claims', '声明 jti 应为 1 到 200 个字符', 'claim jti must be 1 to 200 characters');
  return { jti: payload.jti, expiresAt: new Date(exp * 1000) };
}
