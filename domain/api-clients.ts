// U2: the platform's services by tier. Supervisors register machine clients of four tiers; the tier fixes
// what a client may do (its OAuth scopes): government departments sign and verify; makers also issue (the
// application API); enterprises and social organisations sign and verify (the basic services); another
// e-seal platform the city lists (I2) files its seals and reads ours (data exchange), nothing else.
import { fieldRef, invalidField, requiredField, ValidationCollector } from './errors';
import { HOLDER_KINDS, type HolderKind } from './holders';

export const CLIENT_TIERS = ['government', 'maker', 'enterprise', 'platform'] as const;
export type ClientTier = (typeof CLIENT_TIERS)[number];

export const CLIENT_SCOPES = ['issue', 'sign', 'verify', 'exchange'] as const;
export type ClientScope = (typeof CLIENT_SCOPES)[number];

export const TIER_SCOPES: Readonly<Record<ClientTier, readonly ClientScope[]>> = {
  government: ['sign', 'verify'],
  maker: ['issue', 'sign', 'verify'],
  enterprise: ['sign', 'verify'],
  platform: ['exchange'],
};

export const TIER_LABELS: Readonly<Record<ClientTier, { zh: string; en: string }>> = {
  government: { zh: '政务部门', en: 'Government department' },
  maker: { zh: '制章单位', en: 'Seal maker' },
  enterprise: { zh: '企业和社会组织', en: 'Enterprise or social organisation' },
  platform: { zh: '其他电子印章平台（数据交换）', en: 'Another e-seal platform (data exchange)' },
};

/** Holder kinds of each holder-bound tier: a government department is a state organ (国家机关); the basic tier is everyone else. */
export const TIER_HOLDER_KINDS: Readonly<Record<'government' | 'enterprise', readonly HolderKind[]>> = {
  government: ['state_organ'],
  enterprise: HOLDER_KINDS.filter((k) => k !== 'state_organ'),
};

export const CLIENT_FIELDS = {
  name: fieldRef('name', '客户端名称', 'Client name'),
  tier: fieldRef('tier', '服务类别', 'Tier'),
  holderUscc: fieldRef('holder_uscc', '用章单位统一社会信用代码', "Holder's unified social credit code"),
  makerId: fieldRef('maker_id', '制章单位', 'Maker'),
  platformCode: fieldRef('platform_code', '互认平台代码', 'Listed platform code'),
  publicKey: fieldRef('public_key', '客户端公钥', 'Client public key'),
  rateLimit: fieldRef('rate_limit_per_minute', '每分钟请求上限', 'Requests per minute'),
  grantType: fieldRef('grant_type', '授权类型', 'Grant type'),
  assertionType: fieldRef('client_assertion_type', '客户端断言类型', 'Client assertion type'),
  assertion: fieldRef('client_assertion', '客户端断言', 'Client assertion'),
  scope: fieldRef('scope', '权限范围', 'Scope'),
} as const;

export const CLIENT_CREDENTIALS = 'client_credentials';
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 120;
export const MAX_RATE_LIMIT_PER_MINUTE = 100_000;
/** The longest an assertion may live (exp − iat, and exp from now): short, so the kept jti set stays small. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
export const ASSERTION_CLOCK_TOLERANCE_SECONDS = 30;
export const ACCESS_TOKEN_SECONDS = 600;

// Control characters would forge lines in listings and logs.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface ClientRegistration {
  name: string;
  tier: ClientTier;
  holderUscc: string | null;
  makerId: string | null;
  /** The platform tier's: the trust list's code of the platform the client speaks for. */
  platformCode: string | null;
  rateLimitPerMinute: number;
}

/** The registration's plain fields (the public key is checked by the PKI adapter). */
export function parseClientRegistration(body: Record<string, unknown>): ClientRegistration {
  const v = new ValidationCollector();
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  if (name === '') v.add(requiredField(CLIENT_FIELDS.name));
  else if ([...name].length > 200 || CONTROL.test(name)) v.add(invalidField(CLIENT_FIELDS.name, '最长200个字，且不能含控制字符', 'is at most 200 characters without control characters'));
  const tier = body.tier;
  if (tier === undefined || tier === null || tier === '') v.add(requiredField(CLIENT_FIELDS.tier));
  else if (!(CLIENT_TIERS as readonly unknown[]).includes(tier)) v.add(invalidField(CLIENT_FIELDS.tier, `应为 ${CLIENT_TIERS.join('、')} 之一`, `must be one of ${CLIENT_TIERS.join(', ')}`));
  const holderUscc = typeof body.holder_uscc === 'string' && body.holder_uscc !== '' ? body.holder_uscc : null;
  const makerId = typeof body.maker_id === 'string' && body.maker_id !== '' ? body.maker_id : null;
  const platformCode = typeof body.platform_code === 'string' && body.platform_code !== '' ? body.platform_code : null;
  if (tier === 'maker') {
    if (!makerId) v.add(requiredField(CLIENT_FIELDS.makerId));
    if (holderUscc) v.add(invalidField(CLIENT_FIELDS.holderUscc, '制章单位客户端不填写（用其自身的统一社会信用代码）', "is not given for a maker's client (the maker's own code is used)"));
  } else if (tier === 'government' || tier === 'enterprise') {
    if (!holderUscc) v.add(requiredField(CLIENT_FIELDS.holderUscc));
    if (makerId) v.add(invalidField(CLIENT_FIELDS.makerId, '只用于制章单位客户端', "is only for a maker's client"));
  } else if (tier === 'platform') {
    if (!platformCode) v.add(requiredField(CLIENT_FIELDS.platformCode));
    else if (platformCode.length > 64) v.add(invalidField(CLIENT_FIELDS.platformCode, '最长64个字符', 'is at most 64 characters'));
    if (holderUscc) v.add(invalidField(CLIENT_FIELDS.holderUscc, '平台客户端不填写', "is not given for a platform's client"));
    if (makerId) v.add(invalidField(CLIENT_FIELDS.makerId, '只用于制章单位客户端', "is only for a maker's client"));
  }
  if (platformCode && tier !== 'platform' && tier !== undefined && tier !== null && tier !== '') v.add(invalidField(CLIENT_FIELDS.platformCode, '只用于其他电子印章平台的客户端', "is only for another platform's client"));
  let rate = DEFAULT_RATE_LIMIT_PER_MINUTE;
  if (body.rate_limit_per_minute !== undefined) {
    const r = body.rate_limit_per_minute;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > MAX_RATE_LIMIT_PER_MINUTE) v.add(invalidField(CLIENT_FIELDS.rateLimit, `应为 1 到 ${MAX_RATE_LIMIT_PER_MINUTE} 的整数`, `must be an integer from 1 to ${MAX_RATE_LIMIT_PER_MINUTE}`));
    else rate = r;
  }
  v.throwIfAny();
  return { name, tier: tier as ClientTier, holderUscc, makerId, platformCode, rateLimitPerMinute: rate };
}

/**
 * The scopes a token request may have: the requested ones (space-separated, RFC 6749 §3.3) if the tier
 * allows every one of them, else a refusal naming `scope`; no scope asked: all of the tier's.
 */
export function grantedScopes(tier: ClientTier, requested: unknown): ClientScope[] {
  const allowed = TIER_SCOPES[tier];
  if (requested === undefined || requested === null || requested === '') return [...allowed];
  if (typeof requested !== 'string' || requested.length > 200) throw invalidField(CLIENT_FIELDS.scope, '格式不正确', 'is not a space-separated list of scopes', { code: 'invalid_scope' });
  const asked = [...new Set(requested.split(' ').filter((s) => s !== ''))];
  const refused = asked.filter((s) => !(allowed as readonly string[]).includes(s));
  if (refused.length > 0 || asked.length === 0) {
    throw invalidField(CLIENT_FIELDS.scope, `${TIER_LABELS[tier].zh}客户端不能申请：${refused.join(' ')}（可用：${allowed.join(' ')}）`, `${refused.join(' ')} not allowed for the ${tier} tier (allowed: ${allowed.join(' ')})`, {
      code: 'invalid_scope',
      details: { allowed },
    });
  }
  return CLIENT_SCOPES.filter((s) => asked.includes(s));
}
