// A seal's X.509 certificate and its chain, for relying parties (issue 16 point 5). Certificates are public
// as in any PKI: a relying party that holds a signed document checks it against the certificate, the CA
// chain, the CRL and OCSP, none of which needs an account here. The certificate of a cancelled seal is still
// served (documents signed before stay verifiable); its status says it is revoked.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { Db } from '../infra/db';
import { DomainError } from '../domain/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const noCertificate = () =>
  new DomainError({ code: 'not_found', httpStatus: 404, messageZh: '印章证书不存在（印章不存在或尚未制作）', messageEn: 'Seal certificate not found (no such seal, or not produced yet)' });

export interface SealCertificate {
  serial: string;
  der: Buffer;
  pem: string;
  /** The seal's certificate first, then each CA up to the root (RFC 8555 §9.1 order), PEM. */
  chainPem: string;
}

/** Links to a seal's certificate files (public), for the seal's views. */
export const sealCertificateLinks = (sealId: string) => ({
  pem: `/pki/seals/${sealId}/certificate.pem`,
  der: `/pki/seals/${sealId}/certificate.der`,
  chain: `/pki/seals/${sealId}/chain.pem`,
});

const pemOf = (c: x509.X509Certificate) => `${c.toString('pem').trim()}\n`;

export async function sealCertificate(db: Db, sealId: string): Promise<SealCertificate> {
  if (!UUID.test(sealId)) throw noCertificate();
  const row = await db('seals').where({ id: sealId }).whereNotNull('certificate_der').first('certificate_der', 'certificate_serial');
  if (!row) throw noCertificate();
  const cert = new x509.X509Certificate(new Uint8Array(row.certificate_der as Buffer));
  // The chain is built by the library from the platform's CA certificates (issuer name, key identifiers
  // and signatures), so a seal certified by an earlier issuing CA still gets its own chain.
  const cas = (await db('ca_certificates').whereIn('purpose', ['root', 'issuing']).select('pem')).map((r) => new x509.X509Certificate(String(r.pem)));
  const chain = await new x509.X509ChainBuilder({ certificates: cas }).build(cert);
  return {
    serial: String(row.certificate_serial),
    der: Buffer.from(cert.rawData),
    pem: pemOf(cert),
    chainPem: chain.map(pemOf).join(''),
  };
}
