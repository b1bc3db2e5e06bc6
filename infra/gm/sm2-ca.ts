// The platform's SM2 CA chain (issue 13), beside the ECDSA one (../pki/ca.ts): an SM2 root and issuing CA
// (SM2/SM3 signatures, 1.2.156.10197.1.501) and an SM2 OCSP responder. SoftHSM2 has no SM2, so the keys are
// made and used by the software SM2 module (../hsm/sm2-module.ts), each wrapped under the SM2 wrapping key
// of the token of its role (M4, as the ECDSA keys): the root key under the root token's (only provisioning
// and the ceremony open it), the issuing CA key under the issuing token's (HSM workers: seal certificates
// and CRLs), the responder key under the web token's (the web answers OCSP). A process holding one token
// cannot unwrap another role's key. Wrapped keys and certificates are kept in `gm_ca_keys`.
import { AsnConvert } from '@peculiar/asn1-schema';
import { Extension, KeyUsageFlags } from '@peculiar/asn1-x509';
import { id_kp_OCSPSigning, id_pkix_ocsp_nocheck } from '@peculiar/asn1-ocsp';
import type { Db } from '../db';
import type { Hsm } from '../hsm/hsm';
import { Sm2Module, SM2_WRAPPING_KEY_LABEL, type WrappedSm2Key } from '../hsm/sm2-module';
import { CA_ORGANIZATION, randomSerial } from '../pki/ca';
import * as x509 from '../pki/x509';
import { certificateSpki, certificateSubjectDer, issueSm2Certificate, sm2CertificateSignedBy } from './sm2-certificates';

export const SM2_ROOT_CA_CN = '北京市电子印章管理服务平台SM2根CA';
export const SM2_ISSUING_CA_CN = '北京市电子印章管理服务平台SM2签发CA';
export const SM2_OCSP_RESPONDER_CN = '北京市电子印章管理服务平台SM2 OCSP响应服务';

export type Sm2CaPurpose = 'root' | 'issuing' | 'ocsp_responder';
/** The token whose SM2 wrapping key wraps each role's key. */
export const SM2_CA_TOKEN: Record<Sm2CaPurpose, 'root' | 'issuing' | 'web'> = { root: 'root', issuing: 'issuing', ocsp_responder: 'web' };

export interface Sm2CaKey {
  purpose: Sm2CaPurpose;
  key: WrappedSm2Key;
  certificate: Buffer;
}

const DAY = 86_400_000;
const plusYears = (d: Date, years: number) => {
  const r = new Date(d);
  r.setUTCFullYear(r.getUTCFullYear() + years);
  return r;
};
const caName = (cn: string): x509.JsonName => [{ C: ['CN'] }, { O: [CA_ORGANIZATION] }, { CN: [cn] }];
/** An asn1-x509 Extension from one of @peculiar/x509's extension classes. */
export const asnExtension = (e: x509.Extension) => AsnConvert.parse(e.rawData, Extension);

export async function loadSm2CaKey(db: Db, purpose: Sm2CaPurpose): Promise<Sm2CaKey | undefined> {
  const row = await db('gm_ca_keys').where({ purpose }).first();
  return row ? { purpose, key: { wrappedPrivateKey: row.wrapped_private_key, publicKeySpki: row.public_key_spki }, certificate: row.certificate_der } : undefined;
}

/** The SM2 issuing CA's key and certificate; a clear error when the SM2 chain was never provisioned. */
export async function sm2IssuingCa(db: Db): Promise<Sm2CaKey> {
  const ca = await loadSm2CaKey(db, 'issuing');
  if (!ca) throw new Error('No SM2 issuing CA in PostgreSQL: provision the platform PKI with pki.algorithmSuite gm or both (make up)');
  return ca;
}

async function store(db: Db, purpose: Sm2CaPurpose, key: WrappedSm2Key, certificate: Buffer): Promise<Sm2CaKey> {
  await db('gm_ca_keys')
    .insert({ purpose, token_role: SM2_CA_TOKEN[purpose], wrapping_key_label: SM2_WRAPPING_KEY_LABEL, wrapped_private_key: key.wrappedPrivateKey, public_key_spki: key.publicKeySpki, certificate_der: certificate })
    .onConflict('purpose')
    .merge(['wrapping_key_label', 'wrapped_private_key', 'public_key_spki', 'certificate_der']);
  return { purpose, key, certificate };
}

const validity = (certDer: Buffer) => new x509.X509Certificate(certDer);

/**
 * M4, issue 13: the SM2 root and issuing CA and the SM2 OCSP responder, made once. The root token is opened
 * (tokens.root) only when the root or the issuing CA certificate must be made; the running system never
 * opens it. The responder's certificate (one year, ocsp-nocheck) is re-issued when 30 days or less remain.
 */
export async function ensureSm2PlatformCa(tokens: { issuing: Hsm; web: Hsm; root: () => Promise<Hsm> }, db: Db, opts: { now?: Date } = {}) {
  const now = opts.now ?? new Date();
  const notBefore = new Date(now.getTime() - 10 * 60_000); // relying parties' clock skew
  let root = await loadSm2CaKey(db, 'root');
  let issuing = await loadSm2CaKey(db, 'issuing');
  const created = { root: false, issuing: false, responder: false };
  if (!root || !issuing || !sm2CertificateSignedBy(issuing.certificate, root.key.publicKeySpki)) {
    const rootModule = new Sm2Module(await tokens.root());
    if (!root) {
      const key = await rootModule.generateKeyPair();
      const name = caName(SM2_ROOT_CA_CN);
      const certificate = await issueSm2Certificate({
        serialNumber: randomSerial(),
        subject: name,
        issuer: name,
        publicKeySpki: key.publicKeySpki,
        issuerPublicKeySpki: key.publicKeySpki,
        notBefore,
        notAfter: plusYears(notBefore, 20),
        ca: true,
        keyUsage: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
        sign: (tbs) => rootModule.sign(key, tbs),
      });
      root = await store(db, 'root', key, certificate);
      created.root = true;
    }
    const issuingKey = issuing?.key ?? (await new Sm2Module(tokens.issuing).generateKeyPair());
    const rootCert = validity(root.certificate);
    const tenYears = plusYears(notBefore, 10);
    const certificate = await issueSm2Certificate({
      serialNumber: randomSerial(),
      subject: caName(SM2_ISSUING_CA_CN),
      issuer: certificateSubjectDer(root.certificate),
      publicKeySpki: issuingKey.publicKeySpki,
      issuerPublicKeySpki: root.key.publicKeySpki,
      notBefore,
      notAfter: tenYears < rootCert.notAfter ? tenYears : rootCert.notAfter,
      ca: true,
      pathLen: 0,
      keyUsage: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
      sign: (tbs) => rootModule.sign(root!.key, tbs),
    });
    issuing = await store(db, 'issuing', issuingKey, certificate);
    created.issuing = true;
  }
  const responder = await loadSm2CaKey(db, 'ocsp_responder');
  const issuingCert = validity(issuing.certificate);
  const fits = (r: Sm2CaKey) => sm2CertificateSignedBy(r.certificate, issuing!.key.publicKeySpki) && validity(r.certificate).notAfter.getTime() - now.getTime() > 30 * DAY;
  if (!responder || !fits(responder)) {
    const key = responder?.key ?? (await new Sm2Module(tokens.web).generateKeyPair());
    const oneYear = new Date(notBefore.getTime() + 365 * DAY);
    const certificate = await issueSm2Certificate({
      serialNumber: randomSerial(),
      subject: caName(SM2_OCSP_RESPONDER_CN),
      issuer: certificateSubjectDer(issuing.certificate),
      publicKeySpki: key.publicKeySpki,
      issuerPublicKeySpki: issuing.key.publicKeySpki,
      notBefore,
      notAfter: oneYear < issuingCert.notAfter ? oneYear : issuingCert.notAfter,
      ca: false,
      keyUsage: KeyUsageFlags.digitalSignature,
      extensions: [asnExtension(new x509.ExtendedKeyUsageExtension([id_kp_OCSPSigning], false)), asnExtension(new x509.Extension(id_pkix_ocsp_nocheck, false, new Uint8Array([0x05, 0x00])))],
      sign: (tbs) => new Sm2Module(tokens.issuing).sign(issuing!.key, tbs),
    });
    await store(db, 'ocsp_responder', key, certificate);
    created.responder = true;
  }
  return { root: root.certificate, issuing: issuing.certificate, created };
}

/** An end-entity SM2 certificate signed by the SM2 issuing CA (HSM workers: the issuing token's module). */
export async function issueBySm2IssuingCa(
  sm2: Sm2Module,
  issuing: Sm2CaKey,
  p: { subject: x509.JsonName; publicKeySpki: Buffer; notBefore: Date; notAfter: Date; ca?: boolean; keyUsage?: number; extensions?: Extension[] },
): Promise<Buffer> {
  const issuer = validity(issuing.certificate);
  return issueSm2Certificate({
    serialNumber: randomSerial(),
    subject: p.subject,
    issuer: certificateSubjectDer(issuing.certificate),
    publicKeySpki: p.publicKeySpki,
    issuerPublicKeySpki: certificateSpki(issuing.certificate),
    notBefore: p.notBefore,
    notAfter: p.notAfter < issuer.notAfter ? p.notAfter : issuer.notAfter,
    ca: p.ca ?? false,
    keyUsage: p.keyUsage,
    extensions: p.extensions,
    sign: (tbs) => sm2.sign(issuing.key, tbs),
  });
}

/** Where relying parties find the SM2 chain's status services and issuer (written into SM2 seal certificates). */
export function sm2CertificateLocations(baseUrl: string) {
  return { crl: `${baseUrl}/pki/sm2/crl.der`, ocsp: `${baseUrl}/pki/sm2/ocsp`, caIssuers: `${baseUrl}/pki/sm2/issuing-ca.crt` };
}
