// RFC 3161 time-stamp protocol messages, with @peculiar/asn1-tsp: the request a client sends, the TSTInfo a
// TSA signs (as CMS signed data, ./cms.ts, id-ct-TSTInfo encapsulated), the response, and reading a token
// back (verification, and checking an external TSA's answer). No key here: the TSA's key signs in the HSM
// (infra/pki/tsa.ts).
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import * as tsp from '@peculiar/asn1-tsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { findSignerCertificate, OID, parseSignedData, verifySignerSignature } from './cms';

/** Hash algorithms a request may use, with their lengths (the imprint must have exactly that many bytes). */
export const TSP_HASHES: Record<string, { name: string; length: number }> = {
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', length: 32 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', length: 48 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', length: 64 },
};

export interface TimeStampRequest {
  hashAlgorithm: string;
  hashedMessage: Buffer;
  nonce: Buffer | null;
  certReq: boolean;
  policy: string | null;
}

export class TimeStampRequestError extends Error {
  constructor(
    readonly failure: 'badAlg' | 'badRequest' | 'badDataFormat' | 'unacceptedPolicy' | 'unacceptedExtension',
    message: string,
  ) {
    super(message);
  }
}

/** Parses and checks a DER TimeStampReq; throws TimeStampRequestError with the RFC's failure code. */
export function parseTimeStampRequest(der: Buffer, acceptedPolicy: string): TimeStampRequest {
  let req: tsp.TimeStampReq;
  try {
    req = AsnConvert.parse(der, tsp.TimeStampReq);
  } catch {
    throw new TimeStampRequestError('badDataFormat', 'not a DER TimeStampReq');
  }
  if (req.version !== tsp.TimeStampReqVersion.v1) throw new TimeStampRequestError('badDataFormat', `version ${req.version}`);
  const alg = TSP_HASHES[req.messageImprint.hashAlgorithm.algorithm];
  if (!alg) throw new TimeStampRequestError('badAlg', `hash algorithm ${req.messageImprint.hashAlgorithm.algorithm} is not accepted (SHA-256, -384, -512)`);
  const hashed = Buffer.from(req.messageImprint.hashedMessage.buffer);
  if (hashed.length !== alg.length) throw new TimeStampRequestError('badDataFormat', `the imprint has ${hashed.length} bytes, ${alg.name} has ${alg.length}`);
  if (req.reqPolicy && req.reqPolicy !== acceptedPolicy) throw new TimeStampRequestError('unacceptedPolicy', `policy ${req.reqPolicy} (this TSA: ${acceptedPolicy})`);
  if (req.extensions?.length) throw new TimeStampRequestError('unacceptedExtension', 'no request extension is supported');
  const nonce = req.nonce ? Buffer.from(req.nonce) : null;
  if (nonce && nonce.length > 32) throw new TimeStampRequestError('badRequest', 'the nonce is longer than 256 bits');
  return { hashAlgorithm: req.messageImprint.hashAlgorithm.algorithm, hashedMessage: hashed, nonce, certReq: req.certReq, policy: req.reqPolicy ?? null };
}

/** A DER TimeStampReq over a SHA-256 digest, with a fresh nonce, asking for the TSA's certificate. */
export function timeStampRequest(sha256: Buffer): { der: Buffer; nonce: Buffer } {
  const nonce = randomBytes(8);
  nonce[0] = (nonce[0] & 0x7f) | 0x01; // a positive INTEGER in minimal DER, kept byte for byte
  const req = new tsp.TimeStampReq({
    version: tsp.TimeStampReqVersion.v1,
    messageImprint: new tsp.MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID.sha256 }), hashedMessage: new OctetString(sha256) }),
    nonce: new Uint8Array(nonce).buffer,
    certReq: true,
  });
  return { der: Buffer.from(AsnConvert.serialize(req)), nonce };
}

/** The DER TSTInfo the TSA signs: policy, imprint, a unique serial, genTime (to the millisecond), nonce. */
export function tstInfoDer(input: { policy: string; request: TimeStampRequest; serial: Buffer; genTime: Date }): Buffer {
  const info = new tsp.TSTInfo({
    version: tsp.TSTInfoVersion.v1,
    policy: input.policy,
    messageImprint: new tsp.MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: input.request.hashAlgorithm }), hashedMessage: new OctetString(input.request.hashedMessage) }),
    serialNumber: new Uint8Array(input.serial).buffer,
    genTime: input.genTime,
    accuracy: new tsp.Accuracy({ seconds: 1 }),
    nonce: input.request.nonce ? new Uint8Array(input.request.nonce).buffer : undefined,
  });
  return Buffer.from(AsnConvert.serialize(info));
}

const FAILURE_BITS: Record<TimeStampRequestError['failure'], number> = { badAlg: 0, badRequest: 2, badDataFormat: 5, unacceptedPolicy: 15, unacceptedExtension: 16 };

/** TimeStampResp: granted with the token, or a rejection with its failure code. */
export function timeStampResponse(outcome: { token: Buffer } | { failure: TimeStampRequestError['failure']; text: string }): Buffer {
  if ('token' in outcome) {
    const token = AsnConvert.parse(outcome.token, tsp.TimeStampToken);
    return Buffer.from(AsnConvert.serialize(new tsp.TimeStampResp({ status: new tsp.PKIStatusInfo({ status: tsp.PKIStatus.granted }), timeStampToken: token })));
  }
  // Named bit n of PKIFailureInfo, in DER (trailing zero bits dropped). Not PKIFailureInfoFlags: its values
  // are not the RFC's bit positions (badDataFormat is bit 5, the enum says 16).
  const bit = FAILURE_BITS[outcome.failure];
  const bytes = new Uint8Array((bit >> 3) + 1);
  bytes[bit >> 3] = 0x80 >> (bit & 7);
  const failInfo = new tsp.PKIFailureInfo(bytes, 7 - (bit & 7));
  const status = new tsp.PKIStatusInfo({ status: tsp.PKIStatus.rejection, statusString: new tsp.PKIFreeText([outcome.text]), failInfo });
  return Buffer.from(AsnConvert.serialize(new tsp.TimeStampResp({ status })));
}

/** The token of a granted TimeStampResp; throws with the TSA's status otherwise. */
export function tokenOfResponse(der: Buffer): Buffer {
  const resp = AsnConvert.parse(der, tsp.TimeStampResp);
  if ((resp.status.status !== tsp.PKIStatus.granted && resp.status.status !== tsp.PKIStatus.grantedWithMods) || !resp.timeStampToken) {
    throw new Error(`the TSA refused: status ${resp.status.status}${resp.status.statusString ? ` (${resp.status.statusString.join('; ')})` : ''}`);
  }
  return Buffer.from(AsnConvert.serialize(resp.timeStampToken));
}

export interface ParsedTimeStamp {
  genTime: Date;
  serialHex: string;
  policy: string;
  hashAlgorithm: string;
  hashedMessage: Buffer;
  nonce: Buffer | null;
  /** The TSA's certificate (from the token), or null. */
  tsaCertificate: Buffer | null;
  certificates: Buffer[];
  /** The token's own signature verifies with that certificate, over a TSTInfo it names by digest. */
  signatureValid: boolean;
  /** The certificate is for time-stamping only (extended key usage id-kp-timeStamping, critical). */
  timeStampingCertificate: boolean;
}

const ID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

/** Reads a TimeStampToken (DER ContentInfo) and checks its signature; throws when it is not one. */
export function parseTimeStampToken(der: Buffer): ParsedTimeStamp {
  const sd = parseSignedData(der);
  if (!sd.content || sd.content.type !== OID.tstInfo) throw new Error('not a time-stamp token (no TSTInfo)');
  const info = AsnConvert.parse(sd.content.der, tsp.TSTInfo);
  const signer = sd.signers[0];
  const certDer = signer ? findSignerCertificate(signer, sd.certificates) : null;
  const contentDigestOk = !!signer?.messageDigest && signer.contentType === OID.tstInfo && createHash('sha256').update(sd.content.der).digest().equals(signer.messageDigest);
  const certHashOk = !!certDer && !!signer?.signingCertificateHash && createHash('sha256').update(certDer).digest().equals(signer.signingCertificateHash);
  let tsOnly = false;
  if (certDer) {
    const c = new X509Certificate(certDer);
    const eku = c.keyUsage ?? [];
    tsOnly = eku.length === 1 && eku[0] === ID_KP_TIME_STAMPING;
  }
  return {
    genTime: info.genTime,
    serialHex: Buffer.from(info.serialNumber).toString('hex'),
    policy: info.policy,
    hashAlgorithm: info.messageImprint.hashAlgorithm.algorithm,
    hashedMessage: Buffer.from(info.messageImprint.hashedMessage.buffer),
    nonce: info.nonce ? Buffer.from(info.nonce) : null,
    tsaCertificate: certDer,
    certificates: sd.certificates,
    signatureValid: !!signer && !!certDer && contentDigestOk && certHashOk && verifySignerSignature(signer, certDer),
    timeStampingCertificate: tsOnly,
  };
}
