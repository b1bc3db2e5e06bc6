// HSM activities of seals in the national format (issue 13): the seal's SM2 key, its SM2 certificate (issued
// by the SM2 issuing CA) and its GB/T 38540 SESeal (signed by the platform's seal maker, whose certificate the
// SM2 issuing CA issues too), made at production (makeNationalSealAtProduction) — or, for a seal produced
// before that step existed, on its first OFD use (ensureNationalSeal). Idempotent by seal: a retry finds the
// stored row and a losing concurrent attempt's key simply vanishes. Only the HSM worker runs them: the SM2
// module unwraps keys with the issuing token's SM2 wrapping key, in this process only.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { Sm2Module, SM2_WRAPPING_KEY_LABEL } from '../infra/hsm/sm2-module';
import { makeNationalSeal, type SealMaker } from '../infra/gm/national-seal';
import { asnExtension, issueBySm2IssuingCa, sm2CertificateLocations, sm2IssuingCa } from '../infra/gm/sm2-ca';
import { certificateSerialHex } from '../infra/gm/sm2-certificates';
import type { AlgorithmSuite } from '../infra/config';
import { SES_SEAL_TYPE } from '../infra/gm/ses';
import * as x509 from '../infra/pki/x509';
import { KeyUsageFlags } from '@peculiar/asn1-x509';
import { imprintSizeMm } from '../domain/signing';
import { SEAL_NOT_LIVE } from '../domain/signing';

export const SEAL_MAKER_ID = 'platform';
/** The platform's SM2 seal maker (制章者); its certificate also certifies holders' SM2 seal keys. */
export const SEAL_MAKER_SUBJECT: x509.JsonName = [{ C: ['CN'] }, { L: ['北京市'] }, { O: ['北京市电子印章管理平台'] }, { CN: ['北京市电子印章制章者（SM2）'] }];
const MAKER_YEARS = 20;

const sm3Hex = (b: Buffer) => createHash('sm3').update(b).digest('hex');

export interface NationalSealPolicy {
  /** pki.algorithmSuite: `intl` makes no national seal at production. */
  algorithmSuite: AlgorithmSuite;
  /** pki.publicBaseUrl: the SM2 certificates' CRL distribution point and AIA point there. */
  pkiBaseUrl: string;
  policyOid: string;
}

export function createNationalSealHsmActivities(deps: { hsm: Hsm; db: Db; policy: Pick<NationalSealPolicy, 'pkiBaseUrl' | 'policyOid'> & { algorithmSuite?: AlgorithmSuite } }) {
  const { db } = deps;
  const sm2 = new Sm2Module(deps.hsm);

  async function maker(): Promise<SealMaker> {
    let row = await db('gm_seal_makers').where({ id: SEAL_MAKER_ID }).first();
    if (!row) {
      const from = new Date();
      const to = new Date(from);
      to.setUTCFullYear(to.getUTCFullYear() + MAKER_YEARS);
      // The maker's certificate from the SM2 issuing CA: relying parties chain it to the SM2 root.
      const key = await sm2.generateKeyPair();
      const certificate = await issueBySm2IssuingCa(sm2, await sm2IssuingCa(db), {
        subject: SEAL_MAKER_SUBJECT,
        publicKeySpki: key.publicKeySpki,
        notBefore: from,
        notAfter: to,
        keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation,
      });
      await db('gm_seal_makers')
        .insert({ id: SEAL_MAKER_ID, wrapping_key_label: SM2_WRAPPING_KEY_LABEL, wrapped_private_key: key.wrappedPrivateKey, public_key_spki: key.publicKeySpki, certificate_der: certificate })
        .onConflict('id')
        .ignore();
      row = await db('gm_seal_makers').where({ id: SEAL_MAKER_ID }).first();
    }
    return { key: { wrappedPrivateKey: row.wrapped_private_key, publicKeySpki: row.public_key_spki }, certificate: row.certificate_der, subject: SEAL_MAKER_SUBJECT };
  }

  /** The seal's SM2 key, certificate and SESeal, made once; `live` tells which seal may have one now. */
  async function make(sealId: string, live: (s: { status: string; revoked_at: Date | null }) => boolean): Promise<{ created: boolean }> {
    if (await db('seal_national').where({ seal_id: sealId }).first('seal_id')) return { created: false };
    const seal = await db('seals as s')
      .join('holders as h', 'h.id', 's.holder_id')
      .where('s.id', sealId)
      .first('s.status', 's.revoked_at', 's.kind', 's.text', 's.seal_code', 's.imprint_png', 's.certificate_der', 'h.name as holder_name');
    if (!seal || !live(seal) || !seal.certificate_der || !seal.imprint_png || !seal.seal_code) {
      throw ApplicationFailure.nonRetryable(`seal ${sealId} is ${seal?.status ?? 'unknown'} or not yet produced`, SEAL_NOT_LIVE);
    }
    // The national seal is valid as long as the seal's own certificate.
    const cert = new x509.X509Certificate(seal.certificate_der);
    const size = imprintSizeMm(seal.kind);
    const issuing = await sm2IssuingCa(db);
    const at = sm2CertificateLocations(deps.policy.pkiBaseUrl);
    const made = await makeNationalSeal(sm2, await maker(), {
      subject: [{ C: ['CN'] }, { O: [seal.holder_name] }, { '2.5.4.5': [seal.seal_code] }, { CN: [seal.text] }],
      // The seal's SM2 certificate is the SM2 issuing CA's, with the SM2 CRL and OCSP addresses.
      issue: (p) =>
        issueBySm2IssuingCa(sm2, issuing, {
          ...p,
          extensions: [
            asnExtension(new x509.CertificatePolicyExtension([deps.policy.policyOid])),
            asnExtension(new x509.CRLDistributionPointsExtension([at.crl])),
            asnExtension(new x509.AuthorityInfoAccessExtension({ ocsp: [at.ocsp], caIssuers: [at.caIssuers] })),
          ],
        }),
      content: {
        esId: seal.seal_code,
        type: seal.kind === 'personal_name' ? SES_SEAL_TYPE.personal : SES_SEAL_TYPE.organisation,
        name: seal.text,
        createdAt: new Date(),
        validStart: cert.notBefore,
        validEnd: cert.notAfter,
        picture: { type: 'PNG', data: Buffer.from(seal.imprint_png), widthMm: size, heightMm: size },
      },
    });
    const inserted = await db('seal_national')
      .insert({
        seal_id: sealId,
        maker_id: SEAL_MAKER_ID,
        wrapping_key_label: SM2_WRAPPING_KEY_LABEL,
        wrapped_private_key: made.key.wrappedPrivateKey,
        public_key_spki: made.key.publicKeySpki,
        certificate_der: made.certificate,
        certificate_sm3: sm3Hex(made.certificate),
        certificate_serial: certificateSerialHex(made.certificate),
        seal_der: made.seal,
      })
      .onConflict('seal_id')
      .ignore()
      .returning('seal_id');
    return { created: inserted.length > 0 };
  }

  return {
    /** For a seal produced before the national seal was made at production: made on its first OFD use (active seals). */
    ensureNationalSeal: ({ sealId }: { sealId: string }) => make(sealId, (s) => s.status === 'active'),

    /**
     * Production (application workflow, after the imprint is bound): the seal's SM2 key, SM2 certificate and
     * SESeal v4, unless the configured suite is intl. A replacement is a new seal, produced the same way.
     */
    async makeNationalSealAtProduction({ sealId }: { sealId: string }): Promise<{ created: boolean; suite: AlgorithmSuite }> {
      const suite = deps.policy.algorithmSuite ?? 'both';
      if (suite === 'intl') return { created: false, suite };
      return { ...(await make(sealId, (s) => !s.revoked_at && s.status !== 'cancelled' && s.status !== 'stopped')), suite };
    },

    /** SM2/SM3 (GB/T 35276) by the seal's SM2 key over a TBS_Sign; checked live right before the key is used. */
    async signWithNationalSealKey({ sealId, toBeSignedB64 }: { sealId: string; toBeSignedB64: string }): Promise<{ signatureB64: string; signedAt: string }> {
      const row = await db('seals as s').join('seal_national as n', 'n.seal_id', 's.id').where('s.id', sealId).first('s.status', 'n.wrapped_private_key', 'n.public_key_spki');
      if (!row || row.status !== 'active' || !row.wrapped_private_key) {
        throw ApplicationFailure.nonRetryable(`seal ${sealId} is ${row?.status ?? 'unknown'}${row && !row.wrapped_private_key ? ' (SM2 key destroyed)' : ''}`, SEAL_NOT_LIVE);
      }
      const signature = await sm2.sign({ wrappedPrivateKey: row.wrapped_private_key, publicKeySpki: row.public_key_spki }, Buffer.from(toBeSignedB64, 'base64'));
      return { signatureB64: signature.toString('base64'), signedAt: new Date().toISOString() };
    },
  };
}
