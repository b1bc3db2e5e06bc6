// GB/T 38540-2020 electronic seals (SESeal, v4) and electronic signatures (SES_Signature, v4): made for our
// seals (the seal maker's SM2 key signs the seal; the holder's SM2 key signs documents) and read and checked
// for any system's (I2). Signatures are SM2/SM3 with the default user ID over the DER of SES_SealInfo and
// TBS_Sign as received, as ofdrw and other implementations sign them.
import { createHash } from 'node:crypto';
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import { CertInfoList, SealV1SignedContent, SesHeader, SesPictureInfo, SesPropertyInfo, SESeal, SESealV1, SesSealInfo, SesSealInfoV1, SesSignature, TbsSign } from './ses-asn1';
import { OID_SM2_WITH_SM3, sm2Verify } from './sm2';
import { certificateSpki } from './sm2-certificates';

/** Our vendor identifier in SES_Header.Vid (identifies the implementation across systems). */
export const ESEAL_VID = 'BJ-ESEAL';

/** Property type of a seal: GB/T 38540 leaves the codes to the issuer; ours follow the holder's kind. */
export const SES_SEAL_TYPE = { organisation: 1, personal: 2 } as const;

export type Signer = (data: Buffer) => Promise<Buffer>;

const ab = (b: Buffer) => new Uint8Array(b).buffer;
/** DER GeneralizedTime has no fraction here: whole seconds. */
const seconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);
export const sm3 = (data: Buffer) => createHash('sm3').update(data).digest();

export interface SealContent {
  /** 电子印章标识符: the seal code. */
  esId: string;
  type: number;
  name: string;
  /** DER certificates of the signers (the holder's SM2 seal certificate). */
  signerCertificates: Buffer[];
  createdAt: Date;
  validStart: Date;
  validEnd: Date;
  picture: { type: string; data: Buffer; widthMm: number; heightMm: number };
}

/** An SESeal (DER), SES_SealInfo signed by the seal maker. */
export async function makeSeal(content: SealContent, maker: { certificate: Buffer; sign: Signer }): Promise<Buffer> {
  const info = new SesSealInfo({
    header: new SesHeader({ id: 'ES', version: 4, vid: ESEAL_VID }),
    esID: content.esId,
    property: new SesPropertyInfo({
      type: content.type,
      name: content.name,
      certListType: 1,
      certList: AsnConvert.serialize(new CertInfoList(content.signerCertificates.map(ab))),
      createDate: seconds(content.createdAt),
      validStart: seconds(content.validStart),
      validEnd: seconds(content.validEnd),
    }),
    picture: new SesPictureInfo({ type: content.picture.type, data: ab(content.picture.data), width: content.picture.widthMm, height: content.picture.heightMm }),
  });
  const infoDer = Buffer.from(AsnConvert.serialize(info));
  const signedValue = await maker.sign(infoDer);
  return Buffer.from(AsnConvert.serialize(new SESeal({ eSealInfo: ab(infoDer), cert: ab(maker.certificate), signAlgID: OID_SM2_WITH_SM3, signedValue: ab(signedValue) })));
}

export interface ReadSeal extends SealContent {
  vid: string;
  version: number;
  makerCertificate: Buffer;
  signAlgId: string;
  /** The maker's SM2/SM3 signature over SES_SealInfo verifies with the maker's certificate. */
  makerSignatureValid: boolean;
}

/**
 * Parses an SESeal — GB/T 38540 v4, or GM/T 0031-2014 v1 (another system's, for filing and verification) —
 * and checks its maker's signature; throws on a bad structure.
 */
export function readSeal(der: Buffer): ReadSeal {
  let v4: SESeal;
  try {
    v4 = AsnParser.parse(der, SESeal);
  } catch (e) {
    // v1 differs from its second element on (SES_SignInfo, a SEQUENCE, where v4 has the maker's OCTET STRING).
    try {
      return readSealV1(der);
    } catch {
      throw e;
    }
  }
  return readSealV4(v4);
}

/** GM/T 0031-2014: the maker signs SEQUENCE { SES_SealInfo, cert, signatureAlgorithm } (as ofdrw and others do). */
function readSealV1(der: Buffer): ReadSeal {
  const seal = AsnParser.parse(der, SESealV1);
  const info = AsnParser.parse(seal.esealInfo, SesSealInfoV1);
  if (info.header.id !== 'ES') throw new Error(`SES_Header.ID is "${info.header.id}", not "ES"`);
  if (info.header.version !== 1) throw new Error(`SES_Header.version is ${info.header.version} in a GM/T 0031 (version 1) structure`);
  const p = info.property;
  const makerCertificate = Buffer.from(seal.signInfo.cert);
  const signAlgId = seal.signInfo.signatureAlgorithm;
  const signed = Buffer.from(AsnConvert.serialize(new SealV1SignedContent({ esealInfo: seal.esealInfo, cert: seal.signInfo.cert, signatureAlgorithm: signAlgId })));
  return {
    vid: info.header.vid,
    version: 1,
    esId: info.esID,
    type: p.type,
    name: p.name,
    signerCertificates: Array.from(p.certList, (c) => Buffer.from(c)),
    createdAt: p.createDate,
    validStart: p.validStart,
    validEnd: p.validEnd,
    picture: { type: info.picture.type, data: Buffer.from(info.picture.data), widthMm: info.picture.width, heightMm: info.picture.height },
    makerCertificate,
    signAlgId,
    makerSignatureValid: signAlgId === OID_SM2_WITH_SM3 && sm2Verify(certificateSpki(makerCertificate), signed, Buffer.from(seal.signInfo.signData)),
  };
}

function readSealV4(seal: SESeal): ReadSeal {
  const info = AsnParser.parse(seal.eSealInfo, SesSealInfo);
  if (info.header.id !== 'ES') throw new Error(`SES_Header.ID is "${info.header.id}", not "ES"`);
  if (info.header.version !== 4) throw new Error(`SES_Header.version is ${info.header.version}: only version 4 (GB/T 38540) is read`);
  const p = info.property;
  if (p.certListType !== 1) throw new Error(`certListType ${p.certListType}: only certificate lists (1) are read`);
  const signerCertificates = Array.from(AsnParser.parse(p.certList, CertInfoList), (c) => Buffer.from(c));
  const makerCertificate = Buffer.from(seal.cert);
  const makerSignatureValid =
    seal.signAlgID === OID_SM2_WITH_SM3 && sm2Verify(certificateSpki(makerCertificate), Buffer.from(seal.eSealInfo), Buffer.from(seal.signedValue));
  return {
    vid: info.header.vid,
    version: info.header.version,
    esId: info.esID,
    type: p.type,
    name: p.name,
    signerCertificates,
    createdAt: p.createDate,
    validStart: p.validStart,
    validEnd: p.validEnd,
    picture: { type: info.picture.type, data: Buffer.from(info.picture.data), widthMm: info.picture.width, heightMm: info.picture.height },
    makerCertificate,
    signAlgId: seal.signAlgID,
    makerSignatureValid,
  };
}

/** An SES_Signature (DER) over `dataHash` (SM3 of the signed data) with a seal and its signer's key. */
export async function makeSesSignature(p: {
  seal: Buffer;
  signerCertificate: Buffer;
  dataHash: Buffer;
  /** What was signed, e.g. the OFD file's path of Signature.xml. */
  propertyInfo: string;
  time: Date;
  sign: Signer;
}): Promise<Buffer> {
  const tbs = new TbsSign({ version: 4, eseal: ab(p.seal), timeInfo: seconds(p.time), dataHash: ab(p.dataHash), propertyInfo: p.propertyInfo });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = await p.sign(tbsDer);
  return Buffer.from(AsnConvert.serialize(new SesSignature({ toSign: ab(tbsDer), cert: ab(p.signerCertificate), signatureAlgID: OID_SM2_WITH_SM3, signature: ab(signature) })));
}

export interface SesSignatureCheck {
  seal: ReadSeal;
  /** The SESeal's DER as carried in the signature. */
  sealDer: Buffer;
  signerCertificate: Buffer;
  /** The signer's SM2 signature value (DER), as the use register identifies it by its SHA-256. */
  signatureValue: Buffer;
  signedAt: Date;
  propertyInfo: string;
  dataHash: Buffer;
  /** Each check by name: the report says which failed. */
  checks: {
    signatureValid: boolean;
    sealMakerSignatureValid: boolean;
    signerInSeal: boolean;
    withinSealValidity: boolean;
    dataHashMatches: boolean | null;
  };
  valid: boolean;
}

/**
 * Reads and checks an SES_Signature v4: the signer's signature over TBS_Sign, the embedded seal's maker
 * signature, the signer's certificate listed in the seal, the signing time within the seal's validity and,
 * given the signed data, its SM3 hash. Trust in the certificates (chains, status) is the caller's.
 */
export function checkSesSignature(der: Buffer, signedData?: Buffer): SesSignatureCheck {
  const sig = AsnParser.parse(der, SesSignature);
  const tbs = AsnParser.parse(sig.toSign, TbsSign);
  const seal = readSeal(Buffer.from(tbs.eseal));
  const signerCertificate = Buffer.from(sig.cert);
  const dataHash = Buffer.from(tbs.dataHash);
  const checks = {
    signatureValid: sig.signatureAlgID === OID_SM2_WITH_SM3 && sm2Verify(certificateSpki(signerCertificate), Buffer.from(sig.toSign), Buffer.from(sig.signature)),
    sealMakerSignatureValid: seal.makerSignatureValid,
    signerInSeal: seal.signerCertificates.some((c) => c.equals(signerCertificate)),
    withinSealValidity: tbs.timeInfo >= seal.validStart && tbs.timeInfo <= seal.validEnd,
    dataHashMatches: signedData ? sm3(signedData).equals(dataHash) : null,
  };
  const valid = Object.values(checks).every((c) => c !== false);
  return { seal, sealDer: Buffer.from(tbs.eseal), signerCertificate, signatureValue: Buffer.from(sig.signature), signedAt: tbs.timeInfo, propertyInfo: tbs.propertyInfo, dataHash, checks, valid };
}
