// GB/T 38540-2020 (version 4) seal and signature structures, declared for @peculiar/asn1-schema (the
// decorators applied as functions, as in infra/signing/cms.ts). The signed parts (SES_SealInfo inside
// SESeal, TBS_Sign inside SES_Signature) are kept as raw DER (`Any`) in the outer structures, so a signature
// is always checked over the bytes as received, never over a re-encoding of another system's data.
import { AsnArray, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';

const prop = (target: object, key: string, options: Parameters<typeof AsnProp>[0]) => AsnProp(options)(target, key);

/** SES_Header ::= SEQUENCE { ID IA5String ("ES"), version INTEGER (4), Vid IA5String } */
export class SesHeader {
  id = 'ES';
  version = 4;
  vid = '';
  constructor(p: Partial<SesHeader> = {}) {
    Object.assign(this, p);
  }
}
prop(SesHeader.prototype, 'id', { type: AsnPropTypes.IA5String });
prop(SesHeader.prototype, 'version', { type: AsnPropTypes.Integer });
prop(SesHeader.prototype, 'vid', { type: AsnPropTypes.IA5String });

/** CertInfoList ::= SEQUENCE OF OCTET STRING (each a DER X.509 certificate of a signer) */
export class CertInfoList extends AsnArray<ArrayBuffer> {
  constructor(items?: ArrayBuffer[]) {
    super(items);
    Object.setPrototypeOf(this, CertInfoList.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Sequence, itemType: AsnPropTypes.OctetString })(CertInfoList);

/**
 * SES_ESPropertyInfo ::= SEQUENCE { type INTEGER, name UTF8String, certListType INTEGER, certList SES_CertList,
 * createDate, validStart, validEnd GeneralizedTime }. certList is a CHOICE chosen by certListType (1: the
 * certificates, 2: their digests), so it is kept raw and read according to certListType.
 */
export class SesPropertyInfo {
  type = 1;
  name = '';
  certListType = 1;
  certList = new ArrayBuffer(0);
  createDate = new Date(0);
  validStart = new Date(0);
  validEnd = new Date(0);
  constructor(p: Partial<SesPropertyInfo> = {}) {
    Object.assign(this, p);
  }
}
prop(SesPropertyInfo.prototype, 'type', { type: AsnPropTypes.Integer });
prop(SesPropertyInfo.prototype, 'name', { type: AsnPropTypes.Utf8String });
prop(SesPropertyInfo.prototype, 'certListType', { type: AsnPropTypes.Integer });
prop(SesPropertyInfo.prototype, 'certList', { type: AsnPropTypes.Any });
prop(SesPropertyInfo.prototype, 'createDate', { type: AsnPropTypes.GeneralizedTime });
prop(SesPropertyInfo.prototype, 'validStart', { type: AsnPropTypes.GeneralizedTime });
prop(SesPropertyInfo.prototype, 'validEnd', { type: AsnPropTypes.GeneralizedTime });

/** SES_ESPictrueInfo ::= SEQUENCE { type IA5String, data OCTET STRING, width INTEGER, height INTEGER } (mm) */
export class SesPictureInfo {
  type = 'PNG';
  data = new ArrayBuffer(0);
  width = 0;
  height = 0;
  constructor(p: Partial<SesPictureInfo> = {}) {
    Object.assign(this, p);
  }
}
prop(SesPictureInfo.prototype, 'type', { type: AsnPropTypes.IA5String });
prop(SesPictureInfo.prototype, 'data', { type: AsnPropTypes.OctetString });
prop(SesPictureInfo.prototype, 'width', { type: AsnPropTypes.Integer });
prop(SesPictureInfo.prototype, 'height', { type: AsnPropTypes.Integer });

/** SES_SealInfo ::= SEQUENCE { header, esID IA5String, property, picture, extDatas ExtensionDatas OPTIONAL } */
export class SesSealInfo {
  header = new SesHeader();
  esID = '';
  property = new SesPropertyInfo();
  picture = new SesPictureInfo();
  /** ExtensionDatas (SEQUENCE OF ExtensionData), kept raw: we write none and only carry others'. */
  extDatas?: ArrayBuffer;
  constructor(p: Partial<SesSealInfo> = {}) {
    Object.assign(this, p);
  }
}
prop(SesSealInfo.prototype, 'header', { type: SesHeader });
prop(SesSealInfo.prototype, 'esID', { type: AsnPropTypes.IA5String });
prop(SesSealInfo.prototype, 'property', { type: SesPropertyInfo });
prop(SesSealInfo.prototype, 'picture', { type: SesPictureInfo });
prop(SesSealInfo.prototype, 'extDatas', { type: AsnPropTypes.Any, optional: true });

/** SESeal ::= SEQUENCE { eSealInfo SES_SealInfo, cert OCTET STRING (maker), signAlgID OID, signedValue BIT STRING } */
export class SESeal {
  /** DER of SES_SealInfo: what the maker signed. */
  eSealInfo = new ArrayBuffer(0);
  cert = new ArrayBuffer(0);
  signAlgID = '';
  signedValue = new ArrayBuffer(0);
  constructor(p: Partial<SESeal> = {}) {
    Object.assign(this, p);
  }
}
prop(SESeal.prototype, 'eSealInfo', { type: AsnPropTypes.Any });
prop(SESeal.prototype, 'cert', { type: AsnPropTypes.OctetString });
prop(SESeal.prototype, 'signAlgID', { type: AsnPropTypes.ObjectIdentifier });
prop(SESeal.prototype, 'signedValue', { type: AsnPropTypes.BitString });

/**
 * TBS_Sign ::= SEQUENCE { version INTEGER (4), eseal SESeal, timeInfo GeneralizedTime, dataHash BIT STRING,
 * propertyInfo IA5String, extDatas [0] EXPLICIT ExtensionDatas OPTIONAL }
 */
export class TbsSign {
  version = 4;
  /** DER of the SESeal, as the seal was issued. */
  eseal = new ArrayBuffer(0);
  timeInfo = new Date(0);
  dataHash = new ArrayBuffer(0);
  propertyInfo = '';
  extDatas?: ArrayBuffer;
  constructor(p: Partial<TbsSign> = {}) {
    Object.assign(this, p);
  }
}
prop(TbsSign.prototype, 'version', { type: AsnPropTypes.Integer });
prop(TbsSign.prototype, 'eseal', { type: AsnPropTypes.Any });
prop(TbsSign.prototype, 'timeInfo', { type: AsnPropTypes.GeneralizedTime });
prop(TbsSign.prototype, 'dataHash', { type: AsnPropTypes.BitString });
prop(TbsSign.prototype, 'propertyInfo', { type: AsnPropTypes.IA5String });
prop(TbsSign.prototype, 'extDatas', { type: AsnPropTypes.Any, context: 0, optional: true });

/** SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET STRING (signer), signatureAlgID OID, signature BIT STRING, timeStamp [0] EXPLICIT BIT STRING OPTIONAL } */
export class SesSignature {
  /** DER of TBS_Sign: what the signer signed. */
  toSign = new ArrayBuffer(0);
  cert = new ArrayBuffer(0);
  signatureAlgID = '';
  signature = new ArrayBuffer(0);
  timeStamp?: ArrayBuffer;
  constructor(p: Partial<SesSignature> = {}) {
    Object.assign(this, p);
  }
}
prop(SesSignature.prototype, 'toSign', { type: AsnPropTypes.Any });
prop(SesSignature.prototype, 'cert', { type: AsnPropTypes.OctetString });
prop(SesSignature.prototype, 'signatureAlgID', { type: AsnPropTypes.ObjectIdentifier });
prop(SesSignature.prototype, 'signature', { type: AsnPropTypes.BitString });
prop(SesSignature.prototype, 'timeStamp', { type: AsnPropTypes.Any, context: 0, optional: true });

// ---------- GM/T 0031-2014 (version 1) seals, read only (filing and verification of other systems' seals) ----------

/** v1 SES_ESPropertyInfo ::= SEQUENCE { type INTEGER, name UTF8String, certList SEQUENCE OF OCTET STRING, createDate, validStart, validEnd UTCTime } */
export class SesPropertyInfoV1 {
  type = 1;
  name = '';
  certList = new CertInfoList();
  createDate = new Date(0);
  validStart = new Date(0);
  validEnd = new Date(0);
}
prop(SesPropertyInfoV1.prototype, 'type', { type: AsnPropTypes.Integer });
prop(SesPropertyInfoV1.prototype, 'name', { type: AsnPropTypes.Utf8String });
prop(SesPropertyInfoV1.prototype, 'certList', { type: CertInfoList });
prop(SesPropertyInfoV1.prototype, 'createDate', { type: AsnPropTypes.UTCTime });
prop(SesPropertyInfoV1.prototype, 'validStart', { type: AsnPropTypes.UTCTime });
prop(SesPropertyInfoV1.prototype, 'validEnd', { type: AsnPropTypes.UTCTime });

/** v1 SES_SealInfo: as v4's, with the v1 property information. */
export class SesSealInfoV1 {
  header = new SesHeader();
  esID = '';
  property = new SesPropertyInfoV1();
  picture = new SesPictureInfo();
  extDatas?: ArrayBuffer;
}
prop(SesSealInfoV1.prototype, 'header', { type: SesHeader });
prop(SesSealInfoV1.prototype, 'esID', { type: AsnPropTypes.IA5String });
prop(SesSealInfoV1.prototype, 'property', { type: SesPropertyInfoV1 });
prop(SesSealInfoV1.prototype, 'picture', { type: SesPictureInfo });
prop(SesSealInfoV1.prototype, 'extDatas', { type: AsnPropTypes.Any, optional: true });

/** v1 SES_SignInfo ::= SEQUENCE { cert OCTET STRING (maker), signatureAlgorithm OID, signData BIT STRING } */
export class SesSignInfoV1 {
  cert = new ArrayBuffer(0);
  signatureAlgorithm = '';
  signData = new ArrayBuffer(0);
}
prop(SesSignInfoV1.prototype, 'cert', { type: AsnPropTypes.OctetString });
prop(SesSignInfoV1.prototype, 'signatureAlgorithm', { type: AsnPropTypes.ObjectIdentifier });
prop(SesSignInfoV1.prototype, 'signData', { type: AsnPropTypes.BitString });

/** v1 SESeal ::= SEQUENCE { esealInfo SES_SealInfo (kept as received), signInfo SES_SignInfo } */
export class SESealV1 {
  esealInfo = new ArrayBuffer(0);
  signInfo = new SesSignInfoV1();
}
prop(SESealV1.prototype, 'esealInfo', { type: AsnPropTypes.Any });
prop(SESealV1.prototype, 'signInfo', { type: SesSignInfoV1 });

/** What a v1 maker signs: SEQUENCE { SES_SealInfo (as received), cert OCTET STRING, signatureAlgorithm OID }. */
export class SealV1SignedContent {
  esealInfo = new ArrayBuffer(0);
  cert = new ArrayBuffer(0);
  signatureAlgorithm = '';
  constructor(p: Partial<SealV1SignedContent> = {}) {
    Object.assign(this, p);
  }
}
prop(SealV1SignedContent.prototype, 'esealInfo', { type: AsnPropTypes.Any });
prop(SealV1SignedContent.prototype, 'cert', { type: AsnPropTypes.OctetString });
prop(SealV1SignedContent.prototype, 'signatureAlgorithm', { type: AsnPropTypes.ObjectIdentifier });
