// U2: the tiers' scopes and the registration's fields (pure rules; the API path is test/integration/api-clients.test.ts).
import { grantedScopes, parseClientRegistration } from '../../domain/api-clients';
import { DomainError } from '../../domain/errors';

const fieldsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    const list = (e as { errors?: DomainError[] }).errors ?? [e as DomainError];
    return list.map((x) => x.field!);
  }
  throw new Error('no refusal');
};

describe('U2: scopes by tier', () => {
  it('U2: no scope asked gives the tier\'s; a scope outside the tier is refused naming scope', () => {
    expect(grantedScopes('government', undefined)).toEqual(['sign', 'verify']);
    expect(grantedScopes('maker', '')).toEqual(['issue', 'sign', 'verify']);
    expect(grantedScopes('enterprise', 'verify  verify')).toEqual(['verify']);
    expect(fieldsOf(() => grantedScopes('enterprise', 'sign issue'))).toEqual(['scope']);
    expect(fieldsOf(() => grantedScopes('government', 'admin'))).toEqual(['scope']);
    expect(fieldsOf(() => grantedScopes('maker', ' '))).toEqual(['scope']);
  });

  it('U2: a registration names every bad field at once; a maker\'s client is bound to its maker, the others to a holder', () => {
    expect(fieldsOf(() => parseClientRegistration({ tier: 'bank', rate_limit_per_minute: 0 }))).toEqual(['name', 'tier', 'rate_limit_per_minute']);
    expect(fieldsOf(() => parseClientRegistration({ name: 'a', tier: 'maker', holder_uscc: '91110000X' }))).toEqual(['maker_id', 'holder_uscc']);
    expect(fieldsOf(() => parseClientRegistration({ name: 'a', tier: 'government' }))).toEqual(['holder_uscc']);
    expect(parseClientRegistration({ name: ' 某局 ', tier: 'government', holder_uscc: '11110000000000000X' })).toEqual({ name: '某局', tier: 'government', holderUscc: '11110000000000000X', makerId: null, platformCode: null, rateLimitPerMinute: 120 });
  });

  it('I2 U2: a platform\'s client is bound to a listed platform by its code, holds only the exchange scope, and names no holder or maker', () => {
    expect(fieldsOf(() => parseClientRegistration({ name: 'a', tier: 'platform' }))).toEqual(['platform_code']);
    expect(fieldsOf(() => parseClientRegistration({ name: 'a', tier: 'platform', platform_code: 'ZJ', holder_uscc: '91110000X', maker_id: 'm' }))).toEqual(['holder_uscc', 'maker_id']);
    expect(fieldsOf(() => parseClientRegistration({ name: 'a', tier: 'enterprise', holder_uscc: '91110000X', platform_code: 'ZJ' }))).toEqual(['platform_code']);
    expect(parseClientRegistration({ name: '浙江平台', tier: 'platform', platform_code: 'ZJ-ESEAL' })).toMatchObject({ tier: 'platform', platformCode: 'ZJ-ESEAL', holderUscc: null, makerId: null });
    expect(grantedScopes('platform', undefined)).toEqual(['exchange']);
    expect(fieldsOf(() => grantedScopes('platform', 'sign'))).toEqual(['scope']);
  });
});
