// An API client as a machine would be one (U2): a supervisor registers its public key, and it gets access
// tokens at POST /api/oauth/token with a JWT it signs (RFC 7523 private_key_jwt).
import { randomUUID } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { api } from './stack';

export interface TestClient {
  id: string;
  privateKey: KeyLike;
}

/** Registers a client with a fresh key pair (JWK, or PEM when `asPem`); expects 201. */
export async function newClient(url: string, supervisorToken: string, body: Record<string, unknown>, alg: 'ES256' | 'EdDSA' = 'ES256', asPem = false): Promise<TestClient> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { crv: alg === 'EdDSA' ? 'Ed25519' : undefined });
  const public_key = asPem ? await exportSPKI(publicKey) : await exportJWK(publicKey);
  const res = await api(url, supervisorToken, 'POST', '/api/clients', { ...body, public_key });
  if (res.status !== 201) throw new Error(`client registration answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { id: res.body.client_id, privateKey };
}

/** A signed assertion for the token endpoint `audience`; claims may be overridden to make bad ones. */
export async function clientAssertion(c: TestClient, audience: string, claims: { exp?: number; jti?: string; aud?: string; sub?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const alg = (c.privateKey as { asymmetricKeyType?: string }).asymmetricKeyType === 'ed25519' ? 'EdDSA' : 'ES256';
  return new SignJWT({})
    .setProtectedHeader({ alg })
    .setIssuer(c.id)
    .setSubject(claims.sub ?? c.id)
    .setAudience(claims.aud ?? audience)
    .setIssuedAt(now)
    .setExpirationTime(claims.exp ?? now + 120)
    .setJti(claims.jti ?? randomUUID())
    .sign(c.privateKey);
}

export async function tokenRequest(url: string, jwt: string, extra: Record<string, string> = {}) {
  const res = await fetch(`${url}/api/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt, ...extra }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** An access token of the client (all of its tier's scopes, or `scope`); throws unless granted. */
export async function clientAccessToken(url: string, audience: string, c: TestClient, scope?: string): Promise<string> {
  const res = await tokenRequest(url, await clientAssertion(c, audience), scope ? { scope } : {});
  if (res.status !== 200) throw new Error(`token request answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}
