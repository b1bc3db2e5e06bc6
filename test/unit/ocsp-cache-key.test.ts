// Which OCSP requests may be answered from the responder's cache (infra/pki/ocsp.ts cacheKeyOf): only the
// RFC 5019 form, keyed by its one CertID, so that an unauthenticated client cannot mint cache entries by
// padding requests (every variant below is still answered, signed for itself: certificate-status test).
import { randomBytes } from 'node:crypto';
import { CertID, OCSPRequest, Request, Signature, TBSRequest, id_pkix_ocsp_nonce } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension, GeneralName } from '@peculiar/asn1-x509';
import { cacheKeyOf } from '../../infra/pki/ocsp';

const SHA1 = '1.3.14.3.2.26';
const SHA256 = '2.16.840.1.101.3.4.2.1';
const nameHash = randomBytes(20);
const keyHash = randomBytes(20);

const certId = (serial: number[] = [0x01, 0x23], opts: { algorithm?: string; parameters?: null | undefined; hashBytes?: number } = {}) =>
  new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: opts.algorithm ?? SHA1, parameters: 'parameters' in opts ? opts.parameters : null }),
    issuerNameHash: new OctetString(opts.hashBytes ? randomBytes(opts.hashBytes) : nameHash),
    issuerKeyHash: new OctetString(opts.hashBytes ? randomBytes(opts.hashBytes) : keyHash),
    serialNumber: new Uint8Array(serial).buffer,
  });
const der = (tbs: Partial<TBSRequest>, extra: Partial<OCSPRequest> = {}) =>
  Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId() })], ...tbs }), ...extra })));
const plain = der({});
/** SEQUENCE of short contents, framed by hand (for encodings asn1-schema would not produce). */
const seq = (...parts: Buffer[]) => Buffer.concat([Buffer.from([0x30, Buffer.concat(parts).length]), ...parts]);

test('M13 U1: a nonce-less request with one CertID (RFC 5019) is keyed by its CertID; hash algorithm, parameter form, hashes and serial each make another key', () => {
  const key = cacheKeyOf(plain);
  expect(key).toBe(Buffer.from(AsnConvert.serialize(certId())).subarray(2).toString('latin1')); // its contents
  expect(cacheKeyOf(Buffer.from(plain))).toBe(key);
  const other = (id: CertID) => cacheKeyOf(der({ requestList: [new Request({ reqCert: id })] }));
  const keys = [
    key,
    other(certId([0x01, 0x24])),
    other(certId(undefined, { parameters: undefined })),
    other(certId(undefined, { algorithm: SHA256, hashBytes: 32 })),
    other(certId([0x00, 0x80])), // a leading zero the sign needs is part of the serial
  ];
  expect(keys.every((k) => typeof k === 'string')).toBe(true);
  expect(new Set(keys).size).toBe(keys.length);
});

test('M13 U1: any other request has no cache key — nonce, other extensions, requestorName, version, single extensions, several CertIDs, a signature, non-DER encodings', () => {
  const ext = (oid: string, bytes = 8) => new Extension({ extnID: oid, extnValue: new OctetString(randomBytes(bytes)) });
  const variants: Buffer[] = [
    der({ requestExtensions: [ext(id_pkix_ocsp_nonce, 18)] }),
    der({ requestExtensions: [ext('1.2.3.4')] }),
    der({ requestorName: new GeneralName({ dNSName: 'relying.example' }) }),
    seq(seq(Buffer.from('a003020100', 'hex'), plain.subarray(4))), // version v1 stated (DER leaves the default out)
    der({ requestList: [new Request({ reqCert: certId(), singleRequestExtensions: [ext('1.2.3.5')] })] }),
    der({ requestList: [new Request({ reqCert: certId() }), new Request({ reqCert: certId([0x02]) })] }),
    der({}, { optionalSignature: new Signature({ signatureAlgorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }), signature: new Uint8Array(randomBytes(64)).buffer }) }),
    der({ requestList: [new Request({ reqCert: certId([0x00, 0x01]) })] }), // redundant leading zero
    der({ requestList: [new Request({ reqCert: certId([0x81]) })] }), // negative
    der({ requestList: [new Request({ reqCert: certId(Array(22).fill(1)) })] }), // longer than a serial may be
    der({ requestList: [new Request({ reqCert: certId(undefined, { hashBytes: 32 }) })] }), // SHA-1 with 32-byte hashes
    der({ requestList: [new Request({ reqCert: certId(undefined, { algorithm: '1.2.3', hashBytes: 20 }) })] }), // unknown hash
    Buffer.concat([Buffer.from([0x30, 0x81, plain.length - 2]), plain.subarray(2)]), // long-form length where short fits
    Buffer.concat([plain, Buffer.from([0])]), // trailing byte
    plain.subarray(0, plain.length - 1),
    Buffer.alloc(0),
  ];
  for (const [i, v] of variants.entries()) expect([i, cacheKeyOf(v)]).toEqual([i, undefined]);
});

test('M13 U1: 10,000 padded variants of one request yield no cache key at all', () => {
  let keys = 0;
  for (let i = 0; i < 10_000; i++) {
    const pad = new Extension({ extnID: `1.3.6.1.4.1.99999.${i}`, extnValue: new OctetString(randomBytes(i % 64)) });
    const v = i % 2 ? der({ requestExtensions: [pad] }) : der({ requestorName: new GeneralName({ dNSName: `r${i}.example` }) });
    if (cacheKeyOf(v) !== undefined) keys++;
  }
  expect(keys).toBe(0);
});
