// The software SM2 cryptographic module (GM/T 0028 level 1 at best: software, no certified boundary), run
// only in the HSM worker's process. SoftHSM2 has no SM2 (PKCS#11 3.1 defines none), so SM2 seal keys are
// generated and used here with sm-crypto-v2, and their private scalars exist outside this process only
// wrapped under the token AES key SM2_WRAPPING_KEY_LABEL, whose unwrap template (SM2_KEY_UNWRAP_TEMPLATE)
// keeps an unwrapped copy a session object that cannot be wrapped out or used as a key. A scalar is
// unwrapped for one operation, used, and its buffer zeroed. sm-crypto-v2 takes hex strings, which the
// engine cannot wipe: they live until collected. A certified SM2 device would replace this class (same
// methods) with its vendor PKCS#11 mechanisms or a GM/T 0018 (SDF) call.
import { sm2 } from 'sm-crypto-v2';
import type { Hsm } from './hsm';
import { sm2Sign, sm2SpkiFromPoint, sm2PointFromSpki } from '../gm/sm2';

/** The token AES key under which every SM2 private scalar is stored (unwrap template, never extractable). */
export const SM2_WRAPPING_KEY_LABEL = 'eseal-sm2-key-wrapping';

export interface WrappedSm2Key {
  wrappedPrivateKey: Buffer;
  /** SubjectPublicKeyInfo DER (id-ecPublicKey on sm2p256v1). */
  publicKeySpki: Buffer;
}

export class Sm2Module {
  constructor(
    private readonly hsm: Hsm,
    private readonly wrappingLabel = SM2_WRAPPING_KEY_LABEL,
  ) {}

  /** A new SM2 key pair; the private scalar leaves this call only wrapped by the HSM. */
  async generateKeyPair(): Promise<WrappedSm2Key> {
    await this.hsm.ensureSm2WrappingKey(this.wrappingLabel);
    const pair = sm2.generateKeyPairHex();
    const scalar = Buffer.from(pair.privateKey.padStart(64, '0'), 'hex');
    try {
      const wrappedPrivateKey = await this.hsm.wrapSm2PrivateKey(this.wrappingLabel, scalar);
      return { wrappedPrivateKey, publicKeySpki: sm2SpkiFromPoint(Buffer.from(pair.publicKey, 'hex')) };
    } finally {
      scalar.fill(0);
    }
  }

  /** SM2 with SM3 and the default user ID (GB/T 35276), DER (r, s), by a wrapped key. */
  async sign(key: WrappedSm2Key, data: Buffer): Promise<Buffer> {
    await this.hsm.ensureSm2WrappingKey(this.wrappingLabel);
    const point = sm2PointFromSpki(key.publicKeySpki).toString('hex');
    const scalar = await this.hsm.unwrapSm2PrivateKey(this.wrappingLabel, key.wrappedPrivateKey);
    try {
      // The stored public key must be this scalar's: a blob swapped between rows would otherwise sign
      // under another seal's certificate.
      if (sm2.getPublicKeyFromPrivateKey(scalar.toString('hex')) !== point) throw new Error('wrapped SM2 key does not match its public key');
      return sm2Sign(scalar.toString('hex'), point, data);
    } finally {
      scalar.fill(0);
    }
  }
}
