// I2 (issue 13): seals of GM/T 0031-2014 (version 1) are read, for the filing and verification of other
// systems' seals. The fixture was made by ofdrw's own v1 classes and BouncyCastle (another implementation:
// tools/ofdrw-checker/fixtures/MakeV1Seal.java), not by this code.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { sm2 } from 'sm-crypto-v2';
import { makeSeal, readSeal } from '../../infra/gm/ses';
import { issueSm2Certificate } from '../../infra/gm/sm2-certificates';
import { sm2Sign, sm2SpkiFromPoint } from '../../infra/gm/sm2';

const v1 = readFileSync(path.join(__dirname, '..', 'fixtures', 'gm', 'ofdrw-v1-seal.esl'));

describe('GM/T 0031-2014 (v1) seals', () => {
  it('I2: a v1 seal made by ofdrw is read: header, code, name, signer certificate, picture, and its maker\'s signature verifies', () => {
    const seal = readSeal(v1);
    expect(seal).toMatchObject({ version: 1, vid: 'OFDRW-V1', esId: 'V1SEAL0001', type: 1, name: '其他系统合同专用章', signAlgId: '1.2.156.10197.1.501', makerSignatureValid: true });
    expect(seal.picture).toMatchObject({ type: 'PNG', widthMm: 40, heightMm: 40 });
    expect(seal.picture.data.subarray(1, 4).toString()).toBe('PNG');
    expect(seal.signerCertificates).toHaveLength(1);
    expect(new X509Certificate(seal.signerCertificates[0]).subject).toContain('CN=V1 Seal Holder');
    expect(new X509Certificate(seal.makerCertificate).subject).toContain('CN=V1 Seal Maker');
    expect(seal.validEnd.getTime()).toBeGreaterThan(seal.validStart.getTime());
  });

  it('I2: a v1 seal changed after the maker signed it fails the maker\'s signature; a structure that is neither version is refused', () => {
    const tampered = Buffer.from(v1);
    const at = tampered.indexOf(Buffer.from('V1SEAL0001'));
    tampered[at + 9] = '2'.charCodeAt(0); // the seal code, inside what the maker signed
    const read = readSeal(tampered);
    expect(read.esId).toBe('V1SEAL0002');
    expect(read.makerSignatureValid).toBe(false);
    expect(() => readSeal(Buffer.from('3003020101', 'hex'))).toThrow();
    expect(() => readSeal(v1.subarray(0, v1.length - 10))).toThrow();
  });

  it('I2: v4 seals are read as before (version 4, maker signature)', async () => {
    const k = sm2.generateKeyPairHex();
    const spki = sm2SpkiFromPoint(Buffer.from(k.publicKey, 'hex'));
    const sign = async (d: Buffer) => sm2Sign(k.privateKey, k.publicKey, d);
    const now = new Date();
    const later = new Date(now.getTime() + 86_400_000);
    const certificate = await issueSm2Certificate({ serialNumber: '4a01', subject: 'CN=maker', issuer: 'CN=maker', publicKeySpki: spki, issuerPublicKeySpki: spki, notBefore: now, notAfter: later, ca: true, sign });
    const der = await makeSeal(
      { esId: '1101050000001', type: 1, name: '合同专用章', signerCertificates: [certificate], createdAt: now, validStart: now, validEnd: later, picture: { type: 'PNG', data: Buffer.from('png'), widthMm: 42, heightMm: 42 } },
      { certificate, sign },
    );
    expect(readSeal(der)).toMatchObject({ version: 4, esId: '1101050000001', makerSignatureValid: true });
  });
});
