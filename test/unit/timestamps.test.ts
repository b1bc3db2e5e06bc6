// RFC 3161 requests as the platform's TSA reads them (infra/signing/tsp.ts), and the signature levels a
// signing request may ask for (domain/signing.ts).
import { createHash } from 'node:crypto';
import * as tsp from '@peculiar/asn1-tsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { parseTimeStampRequest, timeStampRequest, timeStampResponse, TimeStampRequestError } from '../../infra/signing/tsp';
import { parseCertify, parseSignatureLevel } from '../../domain/signing';
import { DomainError } from '../../domain/errors';

const POLICY = '2.16.156.339.1.2.1';
const request = (p: Partial<tsp.TimeStampReq> & { alg?: string; hash?: Buffer }) =>
  Buffer.from(
    AsnConvert.serialize(
      new tsp.TimeStampReq({
        version: 1,
        messageImprint: new tsp.MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: p.alg ?? '2.16.840.1.101.3.4.2.1' }), hashedMessage: new OctetString(p.hash ?? Buffer.alloc(32, 1)) }),
        certReq: true,
        ...p,
      }),
    ),
  );
const failure = (der: Buffer) => {
  try {
    parseTimeStampRequest(der, POLICY);
  } catch (e) {
    return e instanceof TimeStampRequestError ? e.failure : String(e);
  }
  return 'accepted';
};

describe('RFC 3161 requests', () => {
  it('reads what openssl-like clients send: imprint, nonce, certReq', () => {
    const digest = createHash('sha256').update('x').digest();
    const { der, nonce } = timeStampRequest(digest);
    expect(parseTimeStampRequest(der, POLICY)).toEqual({ hashAlgorithm: '2.16.840.1.101.3.4.2.1', hashedMessage: digest, nonce, certReq: true, policy: null });
  });

  it('rejects with the failure code the RFC names: garbage, an unknown or weak hash, a wrong imprint length, another policy', () => {
    expect(failure(Buffer.from('not DER'))).toBe('badDataFormat');
    expect(failure(request({ alg: '1.3.14.3.2.26', hash: Buffer.alloc(20) }))).toBe('badAlg'); // SHA-1
    expect(failure(request({ hash: Buffer.alloc(31) }))).toBe('badDataFormat');
    expect(failure(request({ reqPolicy: '1.2.3.4' }))).toBe('unacceptedPolicy');
    expect(failure(request({ reqPolicy: POLICY }))).toBe('accepted');
  });

  it('encodes the failure as the named bit of PKIFailureInfo (badDataFormat is bit 5)', () => {
    const resp = AsnConvert.parse(timeStampResponse({ failure: 'badDataFormat', text: 'x' }), tsp.TimeStampResp);
    expect(resp.status.status).toBe(tsp.PKIStatus.rejection);
    expect(Buffer.from(resp.status.failInfo!.value)).toEqual(Buffer.from([0x04]));
    expect(resp.status.failInfo!.unusedBits).toBe(2);
  });
});

describe('signature levels', () => {
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof DomainError ? e.messageEn : String(e);
    }
    return 'ok';
  };
  it('B-B by default; B-T for CMS and PDF; B-LT for PDF only; OFD B-B only', () => {
    expect(parseSignatureLevel(undefined, 'cms')).toBe('B-B');
    expect(parseSignatureLevel('B-T', 'cms')).toBe('B-T');
    expect(parseSignatureLevel('B-LT', 'pades')).toBe('B-LT');
    expect(err(() => parseSignatureLevel('B-LT', 'cms'))).toMatch(/PDF signatures only/);
    expect(err(() => parseSignatureLevel('B-T', 'ofd'))).toMatch(/B-B for an OFD/);
    expect(err(() => parseSignatureLevel('B-LTA', 'pades'))).toMatch(/one of B-B, B-T, B-LT/);
  });
  it('certify is true or false, and for PDF only', () => {
    expect(parseCertify(undefined, 'pades')).toBe(false);
    expect(parseCertify('true', 'pades')).toBe(true);
    expect(err(() => parseCertify('yes', 'pades'))).toMatch(/true or false/);
    expect(err(() => parseCertify('true', 'cms'))).toMatch(/PDF signatures only/);
  });
});
