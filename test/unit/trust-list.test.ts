// I2: the shape of a trust-list proposal (pure domain rules); certificates and four eyes are checked on the
// real stack (test/integration/trust-list-exchange.test.ts).
import { parsePlatformProposal, type PlatformProposal } from '../../domain/trust-list';
import { isDomainError } from '../../domain/errors';

const fieldsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    if (!isDomainError(e)) throw e;
    const all = (e as unknown as { errors?: Array<{ field?: string }> }).errors ?? [e];
    return all.map((x) => x.field ?? '');
  }
  return [];
};

describe('I2: trust-list proposals', () => {
  it('I2: a new platform needs a code, a name and a root certificate; addresses must be http(s) without credentials', () => {
    expect(fieldsOf(() => parsePlatformProposal({}))).toEqual(['code', 'name', 'root_certificates']);
    expect(fieldsOf(() => parsePlatformProposal({ code: 'zj', name: 'x', root_certificates: ['AAAA'], crl_url: 'ftp://a/b.crl', ocsp_url: 'http://u:p@h/' }))).toEqual(['code', 'crl_url', 'ocsp_url']);
    expect(fieldsOf(() => parsePlatformProposal({ code: 'ZJ-ESEAL', name: '浙江', root_certificates: ['not base64!'] }))).toEqual(['root_certificates[0]']);
    expect(parsePlatformProposal({ code: 'ZJ-ESEAL', name: ' 浙江 ', root_certificates: ['AAAA'], crl_url: 'http://h/c.crl' })).toEqual({ code: 'ZJ-ESEAL', name: '浙江', status: 'active', rootCertificates: ['AAAA'], makerCertificates: [], crlUrl: 'http://h/c.crl', ocspUrl: null });
  });

  it('I2: a change of a listed platform keeps what it does not name, and refuses an unknown status', () => {
    const current: PlatformProposal = { code: 'ZJ-ESEAL', name: '浙江', status: 'active', rootCertificates: ['AAAA'], makerCertificates: ['BBBB'], crlUrl: 'http://h/c.crl', ocspUrl: null };
    expect(parsePlatformProposal({ status: 'suspended' }, current)).toEqual({ ...current, status: 'suspended' });
    expect(fieldsOf(() => parsePlatformProposal({ status: 'paused' }, current))).toEqual(['status']);
  });
});
