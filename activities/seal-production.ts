// HSM activities of production (M4, S3) and cancellation (M9, M13). Each is idempotent by seal: a retry
// finds what the first attempt stored and never makes a second key, certificate or binding.
import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../infra/db';
import type { AlgorithmSuite } from '../infra/config';
import type { Hsm } from '../infra/hsm/hsm';
import * as x509 from '../infra/pki/x509';
import { ISSUING_CA_KEY_LABEL, issueCertificate } from '../infra/pki/ca';
import { hsmCrypto } from '../infra/pki/hsm-crypto';
import { SEAL_WRAPPING_KEY_LABEL } from '../infra/pki/seal-key-wrapping';
import type { PlatformSigningKey } from '../infra/pki/platform';
import { sealKindLabel, type SealKind } from '../domain/seals';
import { sealCertificateNames } from '../domain/seal-text';
import { domainErrorsAreFinal } from './domain-failure';
import { createStatementSigning, createStatementStore } from './platform-statements';

/** The AES key inside the HSM under which every seal's private key is wrapped (never extractable; unwrap template, M4). */
export { SEAL_WRAPPING_KEY_LABEL };

export interface SealCertificatePolicy {
  /** Validity of seal certificates in years (from configuration). */
  validityYears: number;
  /** Public base URL of the PKI routes (pki.publicBaseUrl): CRL Distribution Points and AIA point there. */
  pkiBaseUrl: string;
  /** certificatePolicies OID (pki.sealCertificatePolicyOid). */
  policyOid: string;
  /** pki.algorithmSuite (issue 13): gm and both add the SM2 certificate, SESeal and SM2 CRL; default both. */
  algorithmSuite?: AlgorithmSuite;
}

/** Where relying parties find the status services and the issuer, written into each seal certificate. */
export function sealCertificateLocations(baseUrl: string) {
  return { crl: `${baseUrl}/pki/crl.der`, ocsp: `${baseUrl}/pki/ocsp`, caIssuers: `${baseUrl}/pki/issuing-ca.crt` };
}

const UNIQUE_VIOLATION = '23505';

/** Private-enterprise-number arc for our subject attributes would need registration; we use standard ones. */
function sealSubject(s: { holder_name: string; holder_uscc: string; kind: SealKind; number: number | null; seal_code: string }): x509.JsonName {
  const label = sealKindLabel(s.kind).zh + (s.number ? `(${s.number})` : '');
  const names = sealCertificateNames(s.holder_name, label); // within X.509's bounds, or a DomainError
  return [
    { C: ['CN'] },
    { L: ['北京市'] },
    { O: [names.organization] },
    // organizationIdentifier (2.5.4.97) carries the USCC, as eIDAS-style certificates carry a legal entity ID.
    { '2.5.4.97': [`USCC-${s.holder_uscc}`] },
    { OU: [label] },
    { '2.5.4.5': [s.seal_code] }, // serialNumber: the seal code
    { CN: [names.commonName] },
  ];
}

export function createSealProductionActivities(deps: { db: Db; hsm: Hsm; platformKey: PlatformSigningKey; policy: SealCertificatePolicy }) {
  const { db, hsm } = deps;
  const statements = { ...createStatementSigning(hsm, deps.platformKey), ...createStatementStore(db) };

  const sealRow = (sealId: string) =>
    db('seals as s')
      .join('holders as h', 'h.id', 's.holder_id')
      .where('s.id', sealId)
      .first('s.*', 'h.name as holder_name', 'h.uscc as holder_uscc');

  return {
    /** M4: a new P-256 key pair made inside the HSM, stored only wrapped under the HSM's AES key. */
    async generateSealKey({ sealId }: { sealId: string }): Promise<{ publicKeySpkiBase64: string }> {
      const existing = await db('seal_keys').where({ seal_id: sealId }).first('public_key_spki');
      if (existing) return { publicKeySpkiBase64: (existing.public_key_spki as Buffer).toString('base64') };
      await hsm.ensureSealWrappingKey(SEAL_WRAPPING_KEY_LABEL);
      const { wrappedPrivateKey, publicKeySpki } = await hsm.generateWrappedEcKeyPair(SEAL_WRAPPING_KEY_LABEL);
      // Key and seal in one statement (one round trip) when this attempt's key is the one stored.
      const { rows } = await db.raw(
        `with key as (
           insert into seal_keys (seal_id, wrapping_key_label, wrapped_private_key, public_key_spki) values (?, ?, ?, ?)
           on conflict (seal_id) do nothing
           returning public_key_spki)
         update seals set public_key_spki = key.public_key_spki from key where seals.id = ? returning seals.public_key_spki`,
        [sealId, SEAL_WRAPPING_KEY_LABEL, wrappedPrivateKey, publicKeySpki, sealId],
      );
      if (rows.length > 0) return { publicKeySpkiBase64: (rows[0].public_key_spki as Buffer).toString('base64') };
      // A concurrent retry won the insert; the loser's key was never stored and simply vanishes.
      const stored = await db('seal_keys').where({ seal_id: sealId }).first('public_key_spki');
      await db('seals').where({ id: sealId }).update({ public_key_spki: stored.public_key_spki });
      return { publicKeySpkiBase64: (stored.public_key_spki as Buffer).toString('base64') };
    },

    /** The seal certificate, signed by the issuing CA in the HSM; issued once per seal. */
    async issueSealCertificate({ sealId }: { sealId: string }): Promise<{ serial: string; fingerprint: string }> {
      // The seal, its key and the issuing CA's certificate in one round trip.
      const s = await sealRow(sealId).select(
        db.raw('(select k.public_key_spki from seal_keys k where k.seal_id = s.id) as key_spki'),
        db.raw(`(select der from ca_certificates where purpose = 'issuing' order by created_at desc limit 1) as issuing_der`),
      );
      if (s.certificate_der) return { serial: s.certificate_serial, fingerprint: s.certificate_fingerprint };
      const issuing = { der: s.issuing_der as Buffer };
      const key = { public_key_spki: s.key_spki as Buffer };
      const notBefore = new Date(Date.now() - 60_000);
      const notAfter = new Date(notBefore);
      notAfter.setUTCFullYear(notAfter.getUTCFullYear() + deps.policy.validityYears);
      const at = sealCertificateLocations(deps.policy.pkiBaseUrl);
      const extensions = [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
        await x509.SubjectKeyIdentifierExtension.create(key.public_key_spki, false, hsmCrypto),
        new x509.CertificatePolicyExtension([deps.policy.policyOid]),
        new x509.CRLDistributionPointsExtension([at.crl]),
        new x509.AuthorityInfoAccessExtension({ ocsp: [at.ocsp], caIssuers: [at.caIssuers] }),
      ];
      // The serial is random (randomSerial) and UNIQUE in PostgreSQL: a clash, however unlikely, is issued again.
      for (let attempt = 1; ; attempt++) {
        const cert = await issueCertificate(hsm, { issuerCertDer: issuing.der, issuerKeyLabel: ISSUING_CA_KEY_LABEL, subject: await domainErrorsAreFinal(async () => sealSubject(s)), publicKeySpki: key.public_key_spki, notBefore, notAfter, extensions });
        const fingerprint = createHash('sha256').update(cert.der).digest('hex');
        try {
          const [updated] = await db('seals')
            .where({ id: sealId })
            .whereNull('certificate_der')
            .update({ certificate_der: cert.der, certificate_serial: cert.serialNumber, certificate_fingerprint: fingerprint })
            .returning(['certificate_serial', 'certificate_fingerprint']);
          const stored = updated ?? (await db('seals').where({ id: sealId }).first('certificate_serial', 'certificate_fingerprint')); // a concurrent retry's
          return { serial: stored.certificate_serial, fingerprint: stored.certificate_fingerprint };
        } catch (e) {
          if ((e as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= 3) throw e;
        }
      }
    },

    /** S3: the platform signs { seal, code, certificate, imprint hash } so the imprint is bound to the seal. */
    async bindImprint({ sealId }: { sealId: string }): Promise<{ statementId: string }> {
      const s = await sealRow(sealId);
      if (s.imprint_statement_id) return { statementId: s.imprint_statement_id };
      const statementId = randomUUID();
      const signed = await statements.signPlatformStatement({
        kind: 'seal.imprint-binding',
        payload: { sealId, sealCode: s.seal_code, certificateFingerprint: s.certificate_fingerprint, imprintSvgSha256: s.imprint_sha256 },
      });
      return db.transaction(async (trx) => {
        const locked = await trx('seals').where({ id: sealId }).forUpdate().first('imprint_statement_id');
        if (locked.imprint_statement_id) return { statementId: locked.imprint_statement_id as string }; // a concurrent retry's
        await createStatementStore(trx).storePlatformStatement({ ...signed, statementId, requestedBy: null });
        await trx('seals').where({ id: sealId }).update({ imprint_statement_id: statementId });
        return { statementId };
      });
    },

    /** M9/M13: the private key is destroyed; the only copy was the wrapped blob. The certificate is kept. */
    async destroySealKey({ sealId, at }: { sealId: string; at: string }): Promise<void> {
      await db('seal_keys').where({ seal_id: sealId }).whereNull('destroyed_at').update({ wrapped_private_key: null, destroyed_at: at });
      // The seal's SM2 key of the national format (made on its first OFD signature), likewise.
      await db('seal_national').where({ seal_id: sealId }).whereNotNull('wrapped_private_key').update({ wrapped_private_key: null });
    },
  };
}
