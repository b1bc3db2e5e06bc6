// CMS signed data (RFC 5652) as CAdES / PAdES baseline B-B wants it (ETSI EN 319 122-1, 319 142-1): detached
// content, signed attributes content-type, message-digest and signing-certificate-v2 (RFC 5035), plus
// signing-time for CAdES (PAdES takes the time from the PDF's /M or a timestamp, so it has none).
// Built and parsed with @peculiar/asn1-cms; the signature value itself is made in the HSM over the DER of
// the signed attributes (see activities/seal-signing.ts), so this module holds no key.
import { createHash, createPublicKey, createVerify, X509Certificate, type KeyObject } from 'node:crypto';
import * as cms from '@peculiar/asn1-cms';
import { AsnArray, AsnConvert, AsnIntegerArrayBufferConverter, AsnParser, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, GeneralName, GeneralNames, Time } from '@peculiar/asn1-x509';

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  /** id-aa-signatureTimeStampToken (RFC 3161 appendix A): a time-stamp token over the signature value. */
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsaEncryption: '1.2.840.113549.1.1.11',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
} as const;

// ---- ASN.1 types no @peculiar package has (RFC 5035), declared without decorator syntax ----

/** A bare OBJECT IDENTIFIER (the value of a content-type attribute). */
class ObjectIdentifierValue {
  value = '';
  constructor(value = '') {
    this.value = value;
  }
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(ObjectIdentifierValue.prototype, 'value');
AsnType({ type: AsnTypeTypes.Choice })(ObjectIdentifierValue);

/** IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber } */
class IssuerSerial {
  issuer = new GeneralNames();
  serialNumber = new ArrayBuffer(0);
  constructor(p: Partial<IssuerSerial> = {}) {
    Object.assign(this, p);
  }
}
AsnProp({ type: GeneralNames })(IssuerSerial.prototype, 'issuer');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(IssuerSerial.prototype, 'serialNumber');

/** ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash OCTET STRING, issuerSerial OPTIONAL } */
class EssCertIdV2 {
  hashAlgorithm?: AlgorithmIdentifier;
  certHash = new OctetString();
  issuerSerial?: IssuerSerial;
  constructor(p: Partial<EssCertIdV2> = {}) {
    Object.assign(this, p);
  }
}
AsnProp({ type: AlgorithmIdentifier, optional: true })(EssCertIdV2.prototype, 'hashAlgorithm');
AsnProp({ type: OctetString })(EssCertIdV2.prototype, 'certHash');
AsnProp({ type: IssuerSerial, optional: true })(EssCertIdV2.prototype, 'issuerSerial');

/** SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL } */
class SigningCertificateV2 {
  certs: EssCertIdV2[] = [];
  constructor(p: Partial<SigningCertificateV2> = {}) {
    Object.assign(this, p);
  }
}
AsnProp({ type: EssCertIdV2, repeated: 'sequence' })(SigningCertificateV2.prototype, 'certs');

/** SET OF Attribute: the DER that is signed (RFC 5652 5.4: the [0] IMPLICIT tag replaced by SET). */
class AttributeSet extends AsnArray<cms.Attribute> {
  constructor(items?: cms.Attribute[]) {
    super(items);
    Object.setPrototypeOf(this, AttributeSet.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Set, itemType: cms.Attribute })(AttributeSet);

// ---- building ----

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
const attribute = (attrType: string, value: unknown) => new cms.Attribute({ attrType, attrValues: [AsnConvert.serialize(value)] });

export interface SignedAttributesInput {
  /** SHA-256 of the signed content (the file, or a PDF's ByteRange), computed as the bytes streamed by. */
  messageDigest: Buffer;
  /** The seal's certificate (DER). */
  signerCertificate: Buffer;
  /** CAdES only: the signing time claimed by the signer (PAdES: none). */
  signingTime?: Date;
  /** The content's type (default id-data; a time-stamp token's TSTInfo: id-ct-TSTInfo). */
  contentType?: string;
}

/** The signed attributes, DER-sorted as SET OF wants, and their DER: the bytes the seal's key signs. */
export function buildSignedAttributes(input: SignedAttributesInput): { attributes: cms.Attribute[]; der: Buffer } {
  const cert = AsnConvert.parse(input.signerCertificate, Certificate);
  const essCertId = new EssCertIdV2({
    certHash: new OctetString(sha256(input.signerCertificate)),
    issuerSerial: new IssuerSerial({
      issuer: new GeneralNames([new GeneralName({ directoryName: cert.tbsCertificate.issuer })]),
      serialNumber: cert.tbsCertificate.serialNumber,
    }),
  });
  const attrs = [
    attribute(OID.contentType, new ObjectIdentifierValue(input.contentType ?? OID.data)),
    attribute(OID.messageDigest, new OctetString(input.messageDigest)),
    attribute(OID.signingCertificateV2, new SigningCertificateV2({ certs: [essCertId] })),
  ];
  if (input.signingTime) attrs.push(attribute(OID.signingTime, new Time(input.signingTime)));
  // DER: the members of a SET OF in the order of their encodings.
  const encoded = attrs.map((a) => ({ a, der: Buffer.from(AsnConvert.serialize(a)) })).sort((x, y) => Buffer.compare(x.der, y.der));
  const sorted = encoded.map((e) => e.a);
  return { attributes: sorted, der: Buffer.from(AsnConvert.serialize(new AttributeSet(sorted))) };
}

/** The unsigned attribute signature-timestamp-token (B-T): the token's ContentInfo as the value. */
export function signatureTimeStampAttribute(token: Buffer): cms.Attribute {
  return new cms.Attribute({ attrType: OID.signatureTimeStampToken, attrValues: [new Uint8Array(token).buffer] });
}

/** The CMS ContentInfo (DER): the signer's certificate and its chain, the signed attributes and the signature (DER ECDSA-Sig-Value). */
export function assembleSignedData(input: {
  attributes: cms.Attribute[];
  signature: Buffer;
  signerCertificate: Buffer;
  chain: Buffer[];
  /** Encapsulated content (a time-stamp token's TSTInfo); default detached id-data. */
  content?: { type: string; der: Buffer };
  /** Unsigned attributes (B-T: the signature-timestamp token, over the signature value). */
  unsignedAttributes?: cms.Attribute[];
  /** Leave the signer's certificate out (a time-stamp token whose request did not ask for it). */
  omitSignerCertificate?: boolean;
}): Buffer {
  const cert = AsnConvert.parse(input.signerCertificate, Certificate);
  const sha256Alg = new AlgorithmIdentifier({ algorithm: OID.sha256 });
  const signerInfo = new cms.SignerInfo({
    version: cms.CMSVersion.v1,
    sid: new cms.SignerIdentifier({ issuerAndSerialNumber: new cms.IssuerAndSerialNumber({ issuer: cert.tbsCertificate.issuer, serialNumber: cert.tbsCertificate.serialNumber }) }),
    digestAlgorithm: sha256Alg,
    signedAttrs: input.attributes,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSha256 }),
    signature: new OctetString(input.signature),
    unsignedAttrs: input.unsignedAttributes?.length ? input.unsignedAttributes : undefined,
  });
  const included = input.omitSignerCertificate ? input.chain : [input.signerCertificate, ...input.chain];
  const certificates = new cms.CertificateSet(included.map((der) => new cms.CertificateChoices({ certificate: AsnConvert.parse(der, Certificate) })));
  const signedData = new cms.SignedData({
    version: input.content ? cms.CMSVersion.v3 : cms.CMSVersion.v1,
    digestAlgorithms: new cms.DigestAlgorithmIdentifiers([sha256Alg]),
    encapContentInfo: input.content
      ? new cms.EncapsulatedContentInfo({ eContentType: input.content.type, eContent: new cms.EncapsulatedContent({ single: new OctetString(input.content.der) }) })
      : new cms.EncapsulatedContentInfo({ eContentType: OID.data }),
    certificates: included.length ? certificates : undefined,
    signerInfos: new cms.SignerInfos([signerInfo]),
  });
  return Buffer.from(AsnConvert.serialize(new cms.ContentInfo({ contentType: OID.signedData, content: AsnConvert.serialize(signedData) })));
}

// ---- reading (the verification report) ----

export interface ParsedSignerInfo {
  /** DER of the signed attributes as signed (SET OF), or null when there are none. */
  signedAttributesDer: Buffer | null;
  messageDigest: Buffer | null;
  contentType: string | null;
  signingTime: Date | null;
  /** certHash of the first ESSCertIDv2 (SHA-256), or null when there is no signing-certificate-v2. */
  signingCertificateHash: Buffer | null;
  signingCertificateHashAlgorithm: string | null;
  digestAlgorithm: string;
  signatureAlgorithm: string;
  signature: Buffer;
  /** Issuer (DER) and serial of the signer's certificate. */
  issuerDer: Buffer | null;
  serial: Buffer | null;
  /** The signature-timestamp token (DER ContentInfo) among the unsigned attributes, if any. */
  signatureTimeStampToken: Buffer | null;
}

export interface ParsedSignedData {
  detached: boolean;
  /** The encapsulated content's type and bytes (a time-stamp token's TSTInfo), or null when detached. */
  content: { type: string; der: Buffer } | null;
  certificates: Buffer[];
  signers: ParsedSignerInfo[];
}

/** Parses a CMS ContentInfo of SignedData; throws on anything else. */
export function parseSignedData(der: Buffer): ParsedSignedData {
  // One pass: ContentInfo's content read as SignedData at once (cms.ContentInfo holds it as ANY, which had
  // the whole signature decoded twice: a third of the verify API's parsing).
  const info = AsnConvert.parse(der, SignedContentInfo);
  if (info.contentType !== OID.signedData) throw new Error(`not CMS SignedData (content type ${info.contentType})`);
  const sd = info.content;
  // The Certificate choice is a SEQUENCE; the other choices (attribute certificates, other) are [0]-[3] tagged.
  const certificates = (sd.certificates ?? []).map((c) => Buffer.from(c)).filter((c) => c[0] === 0x30);
  const signers = sd.signerInfos.map((si): ParsedSignerInfo => {
    let signedAttributesDer: Buffer | null = null;
    if (si.signedAttrs) {
      // As received: the [0] IMPLICIT tag becomes the SET tag (0x31), the rest is byte for byte.
      const raw = si.signedAttrsRaw ? Buffer.from(si.signedAttrsRaw) : null;
      signedAttributesDer = raw && raw[0] === 0xa0 ? Buffer.concat([Buffer.from([0x31]), raw.subarray(1)]) : Buffer.from(AsnConvert.serialize(new AttributeSet(si.signedAttrs)));
    }
    const attr = (oid: string) => si.signedAttrs?.find((a) => a.attrType === oid)?.attrValues[0];
    const md = attr(OID.messageDigest);
    const ct = attr(OID.contentType);
    const st = attr(OID.signingTime);
    const scv2 = attr(OID.signingCertificateV2);
    const tst = si.unsignedAttrs?.find((a) => a.attrType === OID.signatureTimeStampToken)?.attrValues[0];
    let signingCertificateHash: Buffer | null = null;
    let signingCertificateHashAlgorithm: string | null = null;
    if (scv2) {
      const parsed = AsnParser.parse(scv2, SigningCertificateV2);
      const first = parsed.certs[0];
      if (first) {
        signingCertificateHash = Buffer.from(first.certHash.buffer);
        signingCertificateHashAlgorithm = first.hashAlgorithm?.algorithm ?? OID.sha256;
      }
    }
    return {
      signedAttributesDer,
      messageDigest: md ? Buffer.from(AsnParser.parse(md, OctetString).buffer) : null,
      contentType: ct ? AsnParser.parse(ct, ObjectIdentifierValue).value : null,
      signingTime: st ? AsnParser.parse(st, Time).getTime() : null,
      signingCertificateHash,
      signingCertificateHashAlgorithm,
      digestAlgorithm: si.digestAlgorithm.algorithm,
      signatureAlgorithm: si.signatureAlgorithm.algorithm,
      signature: Buffer.from(si.signature.buffer),
      issuerDer: si.sid.issuerAndSerialNumber ? Buffer.from(AsnConvert.serialize(si.sid.issuerAndSerialNumber.issuer)) : null,
      serial: si.sid.issuerAndSerialNumber ? Buffer.from(si.sid.issuerAndSerialNumber.serialNumber) : null,
      signatureTimeStampToken: tst ? Buffer.from(tst) : null,
    };
  });
  const e = sd.encapContentInfo;
  const eContent = e.eContent?.single ? Buffer.from(e.eContent.single.buffer) : e.eContent?.any ? Buffer.from(e.eContent.any) : null;
  return { detached: e.eContent === undefined, content: eContent ? { type: e.eContentType, der: eContent } : null, certificates, signers };
}

/** CertificateSet (RFC 5652 §10.2.3) with each CertificateChoices kept as its bytes, undecoded. */
class RawCertificateSet extends AsnArray<ArrayBuffer> {
  constructor(items?: ArrayBuffer[]) {
    super(items);
    Object.setPrototypeOf(this, RawCertificateSet.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Set, itemType: AsnPropTypes.Any })(RawCertificateSet);

/**
 * SignedData (RFC 5652 §5.1) as @peculiar/asn1-cms declares it, but its certificates left as received: they
 * were decoded into objects and encoded again only to give their DER (half of a verification's parsing), and
 * the bytes as sent are what signing-certificate-v2 hashes anyway.
 */
class SignedDataRawCertificates {
  version = 0;
  digestAlgorithms = new cms.DigestAlgorithmIdentifiers();
  encapContentInfo = new cms.EncapsulatedContentInfo();
  certificates?: RawCertificateSet;
  crls?: cms.RevocationInfoChoices;
  signerInfos = new cms.SignerInfos();
}
AsnProp({ type: AsnPropTypes.Integer })(SignedDataRawCertificates.prototype, 'version');
AsnProp({ type: cms.DigestAlgorithmIdentifiers })(SignedDataRawCertificates.prototype, 'digestAlgorithms');
AsnProp({ type: cms.EncapsulatedContentInfo })(SignedDataRawCertificates.prototype, 'encapContentInfo');
AsnProp({ type: RawCertificateSet, context: 0, implicit: true, optional: true })(SignedDataRawCertificates.prototype, 'certificates');
AsnProp({ type: cms.RevocationInfoChoices, context: 1, implicit: true, optional: true })(SignedDataRawCertificates.prototype, 'crls');
AsnProp({ type: cms.SignerInfos })(SignedDataRawCertificates.prototype, 'signerInfos');

/** ContentInfo whose content is SignedData (RFC 5652 §3, §5.1), decoded in one pass. */
class SignedContentInfo {
  contentType = '';
  content = new SignedDataRawCertificates();
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(SignedContentInfo.prototype, 'contentType');
AsnProp({ type: SignedDataRawCertificates, context: 0 })(SignedContentInfo.prototype, 'content');

/**
 * A certificate's public key: node's own X.509 parser (native, a tenth of the ASN.1 schema's cost), else, for a
 * certificate node refuses, its SubjectPublicKeyInfo as decoded by the schema (as before).
 */
function certificatePublicKey(certificateDer: Buffer): KeyObject {
  try {
    return new X509Certificate(certificateDer).publicKey;
  } catch {
    const cert = AsnConvert.parse(certificateDer, Certificate);
    return createPublicKey({ key: Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo)), format: 'der', type: 'spki' });
  }
}

/** The certificate among `certificates` whose issuer and serial the signer names. */
export function findSignerCertificate(signer: ParsedSignerInfo, certificates: Buffer[]): Buffer | null {
  if (!signer.issuerDer || !signer.serial) return null;
  for (const der of certificates) {
    const c = AsnConvert.parse(der, Certificate);
    if (Buffer.from(c.tbsCertificate.serialNumber).equals(signer.serial) && Buffer.from(AsnConvert.serialize(c.tbsCertificate.issuer)).equals(signer.issuerDer)) return der;
  }
  return null;
}

/** The signature algorithms read (with SHA-256) and the key type each needs: ours sign ECDSA; other platforms' seals may be RSA (I2). */
const SIGNATURE_KEY_TYPES: Record<string, 'ec' | 'rsa'> = {
  [OID.ecdsaWithSha256]: 'ec',
  [OID.sha256WithRsaEncryption]: 'rsa',
  // RFC 5754 §3.2: rsaEncryption with the SignerInfo's digest algorithm (SHA-256, checked with the format).
  [OID.rsaEncryption]: 'rsa',
};

/** ECDSA or RSA (PKCS #1 v1.5) with SHA-256 over the signed attributes, with the certificate's public key. */
export function verifySignerSignature(signer: ParsedSignerInfo, certificateDer: Buffer): boolean {
  const keyType = SIGNATURE_KEY_TYPES[signer.signatureAlgorithm];
  if (!signer.signedAttributesDer || !keyType) return false;
  try {
    const key = certificatePublicKey(certificateDer);
    if (key.asymmetricKeyType !== keyType) return false;
    return createVerify('sha256').update(signer.signedAttributesDer).verify({ key, dsaEncoding: 'der' }, signer.signature);
  } catch {
    return false;
  }
}
