// U2: API clients by tier. Supervisors register a machine client of a government department, a maker or an
// enterprise / social organisation with its public key; the client gets short-lived access tokens with the
// OAuth 2.0 client-credentials grant, authenticating with a JWT it signs with its private key (RFC 7523
// private_key_jwt), and acts through its own service account (a users row of role holder or maker, no
// password), scoped by its tier. Only the SHA-256 of an access token is stored; every accepted assertion's
// jti is kept until the assertion expires, so a replay is refused. Every token request, granted or refused,
// is an audit entry naming the client.
//
// The keeper on a client's call: a client signs through POST /api/seals/{id}/signatures like the holder's
// staff do, naming the keeper by their identity document and giving the seal's protection password in the
// request. The platform never keeps a keeper's password for a client, so a client cannot sign unless the
// keeper (the only one who knows the password, C2) gives it for that signature; wrong passwords count
// towards the seal's lock as they do on the web.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from '../infra/db';
import { webBaseUrl, type Config } from '../infra/config';
import { appendAudit } from '../infra/audit/log';
import { AssertionError, assertionSubject, ClientKeyError, parseClientPublicKey, verifyClientAssertion, type ClientPublicKey } from '../infra/oauth/client-keys';
import {
  ACCESS_TOKEN_SECONDS,
  ASSERTION_CLOCK_TOLERANCE_SECONDS,
  CLIENT_CREDENTIALS,
  CLIENT_FIELDS,
  grantedScopes,
  JWT_BEARER_ASSERTION,
  MAX_ASSERTION_LIFETIME_SECONDS,
  parseClientRegistration,
  TIER_HOLDER_KINDS,
  TIER_LABELS,
  TIER_SCOPES,
  type ClientScope,
  type ClientTier,
} from '../domain/api-clients';
import { DomainError, invalidField, requiredField, ValidationCollector } from '../domain/errors';
import type { Actor } from '../domain/actor';
import { forbidden, notFound } from '../domain/refusals';
import { newSecret, sha256Hex } from './web-accounts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Access tokens carry a prefix so that the web tells them from users' API tokens without a second lookup. */
export const ACCESS_TOKEN_PREFIX = 'ect_';

/** The audience every assertion names: the token endpoint at the web's public address. */
export const tokenEndpoint = (config: Pick<Config, 'notify' | 'runtime'>) => `${webBaseUrl(config)}/api/oauth/token`;

const supervisorOnly = (actor: Actor) => {
  if (actor.role !== 'supervisor' || actor.client) throw forbidden('Only a supervisor registers API clients', '只有监管人员可以登记接口客户端');
};

interface ClientRow {
  id: string;
  name: string;
  tier: ClientTier;
  user_id: string;
  holder_id: string | null;
  maker_id: string | null;
  platform_id: string | null;
  public_jwk: ClientPublicKey['jwk'];
  key_alg: ClientPublicKey['alg'];
  rate_limit_per_minute: number;
  status: 'active' | 'suspended';
  created_at: Date;
  suspended_at: Date | null;
}

export interface ApiClientView {
  id: string;
  /** The OAuth client_id: the `iss` and `sub` of its assertions. */
  client_id: string;
  name: string;
  tier: ClientTier;
  scopes: ClientScope[];
  holder_id: string | null;
  maker_id: string | null;
  /** The platform tier's: the trust list's platform it speaks for. */
  platform_id: string | null;
  key_alg: string;
  rate_limit_per_minute: number;
  status: 'active' | 'suspended';
  token_endpoint: string;
  created_at: string;
  suspended_at: string | null;
}

const view = (row: ClientRow, config: Pick<Config, 'notify' | 'runtime'>): ApiClientView => ({
  id: row.id,
  client_id: row.id,
  name: row.name,
  tier: row.tier,
  scopes: [...TIER_SCOPES[row.tier]],
  holder_id: row.holder_id,
  maker_id: row.maker_id,
  platform_id: row.platform_id,
  key_alg: row.key_alg,
  rate_limit_per_minute: row.rate_limit_per_minute,
  status: row.status,
  token_endpoint: tokenEndpoint(config),
  created_at: new Date(row.created_at).toISOString(),
  suspended_at: row.suspended_at ? new Date(row.suspended_at).toISOString() : null,
});

export interface ClientDeps {
  db: Db;
  config: Config;
}

/** POST /api/clients: a supervisor registers a client of a tier, bound to its holder or maker, with its public key. */
export async function registerApiClient(deps: ClientDeps, actor: Actor, body: Record<string, unknown>): Promise<ApiClientView> {
  supervisorOnly(actor);
  const v = new ValidationCollector();
  const reg = v.check(() => parseClientRegistration(body));
  let key: ClientPublicKey | undefined;
  if (body.public_key === undefined || body.public_key === null || body.public_key === '') v.add(requiredField(CLIENT_FIELDS.publicKey));
  else {
    try {
      key = parseClientPublicKey(body.public_key);
    } catch (e) {
      if (!(e instanceof ClientKeyError)) throw e;
      v.add(invalidField(CLIENT_FIELDS.publicKey, e.zh, e.message));
    }
  }
  v.throwIfAny();
  const r = reg!;

  let holderId: string | null = null;
  let makerId: string | null = null;
  let platformId: string | null = null;
  if (r.tier === 'platform') {
    // I2: another e-seal platform's client files its seals and reads ours; only a listed platform has one.
    const platform = await deps.db('trusted_platforms').where({ code: r.platformCode }).first('id', 'status');
    if (!platform) throw invalidField(CLIENT_FIELDS.platformCode, '不是互认平台名单上的平台', 'names no listed platform', { code: 'PLATFORM_NOT_FOUND', httpStatus: 422 });
    if (platform.status !== 'active') throw invalidField(CLIENT_FIELDS.platformCode, '该平台在互认名单上不是有效状态（暂停或撤销）', 'names a platform that is not active on the trust list (suspended or withdrawn)', { code: 'PLATFORM_NOT_ACTIVE', httpStatus: 422 });
    platformId = platform.id;
  } else if (r.tier === 'maker') {
    if (!UUID.test(r.makerId!)) throw invalidField(CLIENT_FIELDS.makerId, '不存在', 'does not exist', { code: 'MAKER_NOT_FOUND', httpStatus: 422 });
    const maker = await deps.db('makers').where({ id: r.makerId }).first('id', 'uscc');
    if (!maker) throw invalidField(CLIENT_FIELDS.makerId, '不存在', 'does not exist', { code: 'MAKER_NOT_FOUND', httpStatus: 422 });
    makerId = maker.id;
    // Makers are holders too: a maker's client signs with the maker's own seals, if the maker holds any.
    holderId = (await deps.db('holders').where({ uscc: maker.uscc }).first('id'))?.id ?? null;
  } else {
    const holder = await deps.db('holders').where({ uscc: r.holderUscc }).first('id', 'kind');
    if (!holder) throw invalidField(CLIENT_FIELDS.holderUscc, '没有此统一社会信用代码的用章单位', 'names no registered holder', { code: 'HOLDER_NOT_FOUND', httpStatus: 422 });
    const kinds = TIER_HOLDER_KINDS[r.tier as 'government' | 'enterprise'] as readonly string[];
    if (!kinds.includes(holder.kind)) {
      throw invalidField(CLIENT_FIELDS.tier, `与用章单位类型不符（${TIER_LABELS[r.tier].zh}客户端只用于：${kinds.join('、')}）`, `does not fit the holder's kind ${holder.kind} (the ${r.tier} tier is for: ${kinds.join(', ')})`, {
        code: 'TIER_HOLDER_MISMATCH',
        httpStatus: 422,
      });
    }
    holderId = holder.id;
  }

  const id = randomUUID();
  const userId = randomUUID();
  const row = await deps.db.transaction(async (trx) => {
    // The service account: no password (no browser login), scoped like the staff of its holder or maker.
    await trx('users').insert({
      id: userId,
      username: `client:${id}`,
      display_name: r.name,
      role: serviceRole(r.tier),
      maker_id: makerId,
      holder_id: r.tier === 'maker' ? null : holderId,
    });
    // A platform's account is bound to that platform: its filings are the platform's (usecases/exchange.ts).
    if (platformId) await trx('exchange_accounts').insert({ user_id: userId, platform_id: platformId });
    const [inserted] = await trx('api_clients')
      .insert({ id, name: r.name, tier: r.tier, user_id: userId, holder_id: holderId, maker_id: makerId, platform_id: platformId, public_jwk: JSON.stringify(key!.jwk), key_alg: key!.alg, rate_limit_per_minute: r.rateLimitPerMinute, created_by: actor.userId })
      .returning('*');
    return inserted as ClientRow;
  });
  return view(row, deps.config);
}

export async function listApiClients(deps: ClientDeps, actor: Actor): Promise<ApiClientView[]> {
  supervisorOnly(actor);
  const rows: ClientRow[] = await deps.db('api_clients').orderBy('created_at', 'desc').limit(1000).select('*');
  return rows.map((row) => view(row, deps.config));
}

/** Suspends or resumes a client; a suspended client's tokens stop working at once and it gets no new ones. */
export async function setApiClientStatus(deps: ClientDeps, actor: Actor, clientId: string, status: 'active' | 'suspended'): Promise<ApiClientView> {
  supervisorOnly(actor);
  const missing = () => notFound('API client', '接口客户端');
  if (!UUID.test(clientId)) throw missing();
  const [row] = await deps.db('api_clients')
    .where({ id: clientId })
    .update({ status, suspended_at: status === 'suspended' ? deps.db.fn.now() : null })
    .returning('*');
  if (!row) throw missing();
  if (status === 'suspended') await deps.db('oauth_access_tokens').where({ client_id: clientId }).delete();
  return view(row as ClientRow, deps.config);
}

export interface AccessToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

const invalidClient = (zh: string, en: string, reason: string) =>
  new DomainError({ code: 'invalid_client', field: CLIENT_FIELDS.assertion, messageZh: `${CLIENT_FIELDS.assertion.zh}：${zh}`, messageEn: `${CLIENT_FIELDS.assertion.en}: ${en}`, httpStatus: 401, details: { reason } });

/** The role of a client's service account: a maker's, a holder's staff, or a listed platform's data exchange. */
const serviceRole = (tier: ClientTier) => (tier === 'maker' ? 'maker' : tier === 'platform' ? 'exchange' : 'holder');

const clientActor = (row: ClientRow, scopes: readonly ClientScope[]): Actor => ({
  userId: row.user_id,
  username: `client:${row.id}`,
  role: serviceRole(row.tier),
  districtCode: null,
  makerId: row.maker_id,
  holderId: row.holder_id,
  client: { id: row.id, name: row.name, tier: row.tier, scopes: [...scopes] },
});

/**
 * POST /api/oauth/token (RFC 6749 §4.4 with RFC 7523 §2.2 client authentication): grant_type
 * client_credentials, client_assertion_type jwt-bearer, client_assertion, optional scope.
 */
export async function issueAccessToken(deps: ClientDeps, form: Record<string, unknown>, now = new Date()): Promise<AccessToken> {
  const v = new ValidationCollector();
  if (form.grant_type === undefined || form.grant_type === '') v.add(requiredField(CLIENT_FIELDS.grantType));
  else if (form.grant_type !== CLIENT_CREDENTIALS) v.add(invalidField(CLIENT_FIELDS.grantType, `只支持 ${CLIENT_CREDENTIALS}`, `only ${CLIENT_CREDENTIALS} is supported`, { code: 'unsupported_grant_type' }));
  if (form.client_assertion_type !== JWT_BEARER_ASSERTION) v.add(invalidField(CLIENT_FIELDS.assertionType, `应为 ${JWT_BEARER_ASSERTION}`, `must be ${JWT_BEARER_ASSERTION}`, { code: 'invalid_client', httpStatus: 401 }));
  const assertion = typeof form.client_assertion === 'string' ? form.client_assertion : '';
  if (assertion === '') v.add(requiredField(CLIENT_FIELDS.assertion, { code: 'invalid_client', httpStatus: 401 }));
  else if (assertion.length > 8192) v.add(invalidField(CLIENT_FIELDS.assertion, '过长', 'is too long', { code: 'invalid_client', httpStatus: 401 }));
  v.throwIfAny();

  const clientId = assertionSubject(assertion);
  const row: ClientRow | undefined = clientId && UUID.test(clientId) ? await deps.db('api_clients').where({ id: clientId }).first('*') : undefined;
  const refuse = async (e: DomainError, client: ClientRow | undefined): Promise<never> => {
    await appendAudit(deps.db, {
      action: 'client.token',
      outcome: 'refused',
      actor: client ? clientActor(client, []) : null,
      targetType: 'api_client',
      targetId: client?.id ?? null,
      details: { error_code: e.code, reason: e.details?.reason ?? null, claimed_client_id: client ? undefined : (clientId ?? null)?.slice(0, 64) },
    });
    throw e;
  };
  if (!row) return refuse(invalidClient('不是已登记客户端签发的（sub 应为 client_id）', 'is not from a registered client (sub must be the client_id)', 'unknown_client'), undefined);

  let verified;
  try {
    verified = await verifyClientAssertion(assertion, { jwk: row.public_jwk, alg: row.key_alg }, {
      clientId: row.id,
      audience: tokenEndpoint(deps.config),
      maxLifetimeSeconds: MAX_ASSERTION_LIFETIME_SECONDS,
      toleranceSeconds: ASSERTION_CLOCK_TOLERANCE_SECONDS,
      now,
    });
  } catch (e) {
    if (!(e instanceof AssertionError)) throw e;
    return refuse(invalidClient(e.zh, e.message, e.reason), row);
  }
  if (row.status !== 'active') return refuse(new DomainError({ code: 'invalid_client', messageZh: '接口客户端已被暂停', messageEn: 'The API client is suspended', httpStatus: 401, details: { reason: 'suspended' } }), row);
  let scopes: ClientScope[];
  try {
    scopes = grantedScopes(row.tier, form.scope);
  } catch (e) {
    if (e instanceof DomainError) return refuse(e, row);
    throw e;
  }

  const token = ACCESS_TOKEN_PREFIX + newSecret();
  const expiresAt = new Date(now.getTime() + ACCESS_TOKEN_SECONDS * 1000);
  const replayed = await deps.db.transaction(async (trx: Knex.Transaction) => {
    // The jti is kept until the assertion expires (plus the clock tolerance): a second use is a replay.
    const kept = await trx('oauth_assertion_jtis')
      .insert({ client_id: row.id, jti: verified.jti, expires_at: new Date(verified.expiresAt.getTime() + ASSERTION_CLOCK_TOLERANCE_SECONDS * 1000) })
      .onConflict(['client_id', 'jti'])
      .ignore()
      .returning('jti');
    if (kept.length === 0) return true;
    await trx('oauth_access_tokens').insert({ token_sha256: sha256Hex(token), client_id: row.id, scopes, expires_at: expiresAt });
    return false;
  });
  if (replayed) return refuse(invalidClient('已用过（jti 重复）：每次请求需新签一个断言', 'was already used (same jti): sign a new assertion for each request', 'replayed'), row);
  // Expired jtis and tokens are of no use any more: the rows a request leaves behind are cleared as it goes.
  await deps.db('oauth_assertion_jtis').where('expires_at', '<', now).delete();
  await deps.db('oauth_access_tokens').where('expires_at', '<', now).delete();
  await appendAudit(deps.db, { action: 'client.token', outcome: 'ok', actor: clientActor(row, scopes), targetType: 'api_client', targetId: row.id, details: { scopes } });
  return { access_token: token, token_type: 'Bearer', expires_in: ACCESS_TOKEN_SECONDS, scope: scopes.join(' ') };
}

/** The acting client of a bearer access token (active client, unexpired token, enabled account), or null. */
export async function authenticateClientToken(db: Db, token: string): Promise<{ actor: Actor; rateLimitPerMinute: number } | null> {
  if (!token.startsWith(ACCESS_TOKEN_PREFIX)) return null;
  const found = await db('oauth_access_tokens as t')
    .join('api_clients as c', 'c.id', 't.client_id')
    .join('users as u', 'u.id', 'c.user_id')
    .where('t.token_sha256', sha256Hex(token))
    .andWhere('t.expires_at', '>', db.fn.now())
    .andWhere('c.status', 'active')
    .whereNull('u.disabled_at')
    .first('c.*', 't.scopes');
  if (!found) return null;
  return { actor: clientActor(found as ClientRow, found.scopes as ClientScope[]), rateLimitPerMinute: found.rate_limit_per_minute };
}
