// SM2 (GB/T 32918) signatures with SM3 per GB/T 35276 / GM/T 0009: Z = SM3(ENTL || ID || a || b || G || P)
// with the default distinguishing identifier 1234567812345678, then SM2 over SM3(Z || M); DER (r, s).
// Node's crypto cannot set the identifier (OpenSSL's default is empty), so sm-crypto-v2 does the maths.
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { ECParameters, id_ecPublicKey } from '@peculiar/asn1-ecc';
import { sm2 } from 'sm-crypto-v2';

/** GM/T 0006: the SM2 curve (sm2p256v1). */
export const OID_SM2_CURVE = '1.2.156.10197.1.301';
/** GM/T 0006: SM2 signature with SM3 (SM3WithSM2). */
export const OID_SM2_WITH_SM3 = '1.2.156.10197.1.501';
/** GM/T 0009 / GB/T 35276: the default user identifier signer and verifier agree on. */
export const SM2_DEFAULT_USER_ID = '1234567812345678';

/** SubjectPublicKeyInfo (id-ecPublicKey, sm2p256v1) of an uncompressed point `04 || x || y`. */
export function sm2SpkiFromPoint(point: Buffer): Buffer {
  if (point.length !== 65 || point[0] !== 0x04) throw new Error('an SM2 public key is an uncompressed 65-byte point');
  const spki = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: id_ecPublicKey, parameters: AsnConvert.serialize(new ECParameters({ namedCurve: OID_SM2_CURVE })) }),
    subjectPublicKey: new Uint8Array(point).buffer,
  });
  return Buffer.from(AsnConvert.serialize(spki));
}

/** The uncompressed point of an SM2 SubjectPublicKeyInfo; refuses any other key. */
export function sm2PointFromSpki(spkiDer: Buffer): Buffer {
  const spki = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo);
  const params = spki.algorithm.parameters ? AsnConvert.parse(spki.algorithm.parameters, ECParameters) : undefined;
  if (spki.algorithm.algorithm !== id_ecPublicKey || params?.namedCurve !== OID_SM2_CURVE) {
    throw new Error('not an SM2 public key (id-ecPublicKey on sm2p256v1)');
  }
  const point = Buffer.from(spki.subjectPublicKey);
  if (point.length !== 65 || point[0] !== 0x04) throw new Error('SM2 public key is not an uncompressed point');
  return point;
}

/** A GM/T-conformant SM2 signature (DER SEQUENCE { r, s }) of `data` with the default user ID. */
export function sm2Sign(scalarHex: string, publicPointHex: string, data: Buffer): Buffer {
  const der = sm2.doSignature(new Uint8Array(data), scalarHex, { der: true, hash: true, publicKey: publicPointHex, userId: SM2_DEFAULT_USER_ID });
  return Buffer.from(der, 'hex');
}

/** Checks a DER SM2 signature of `data` by the key of `spkiDer`, with the default user ID. Never throws. */
export function sm2Verify(spkiDer: Buffer, data: Buffer, signatureDer: Buffer): boolean {
  try {
    const point = sm2PointFromSpki(spkiDer).toString('hex');
    return sm2.doVerifySignature(new Uint8Array(data), signatureDer.toString('hex'), point, { der: true, hash: true, userId: SM2_DEFAULT_USER_ID });
  } catch {
    return false;
  }
}
