// An OCSP request (RFC 6960 §4.1) for one certificate, without a nonce: what the platform asks its own
// responder when it embeds an OCSP answer into a B-LT PDF (the answer itself is then cacheable).
import { createHash } from 'node:crypto';
import { CertID, OCSPRequest, Request, TBSRequest } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';

export function ocspRequestDer(certificateDer: Buffer, issuerDer: Buffer): Buffer {
  const cert = AsnConvert.parse(certificateDer, Certificate);
  const issuer = AsnConvert.parse(issuerDer, Certificate);
  const sha1 = (b: ArrayBuffer | Uint8Array) => createHash('sha1').update(Buffer.from(b as ArrayBuffer)).digest();
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: '1.3.14.3.2.26', parameters: null }),
    issuerNameHash: new OctetString(sha1(AsnConvert.serialize(issuer.tbsCertificate.subject))),
    issuerKeyHash: new OctetString(sha1(issuer.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)),
    serialNumber: cert.tbsCertificate.serialNumber,
  });
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }) })));
}
