// The platform's own documents are signed (issue 12): the production and cancellation certificates (M10,
// M13) carry a PAdES signature of the maker's seal, its imprint in the seal block "印章制作单位（盖章）".
// Decision: the platform signs on the maker's behalf with the maker's own live legal-name seal (the holder
// with the maker's USCC: makers are holders too), without a keeper's password: the certificate is the
// platform's document, issued in the maker's name by the production workflow, not a use of the seal by a
// keeper (C1/C2 govern keepers' uses). A maker without a live seal of its own: the platform signing key
// signs instead, and the signature's /Name and /Reason say so. Runs on the HSM worker; idempotent: one
// signed copy per document (signed_documents), the unsigned record kept as it was (M5).
import { X509Certificate } from 'node:crypto';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { toDerEcdsaSignature } from '../infra/hsm/hsm';
import type { PlatformSigningKey } from '../infra/pki/platform';
import { ROUND_SEAL_MM, signPdf } from '../infra/signing/pades';
import { assembleSignedData, buildSignedAttributes } from '../infra/signing/cms';

/** The seal block's centre on the certificate's A4 page (left column, above the footer), in mm. */
export const DOCUMENT_SEAL_BLOCK = { page: 1, xMm: 62, yMm: 62 } as const;

export async function issuingChain(db: Db, cert: Buffer): Promise<Buffer[]> {
  const c = new X509Certificate(cert);
  const rows: Array<{ der: Buffer }> = await db('ca_certificates').where({ purpose: 'issuing' }).orderBy('created_at', 'desc').select('der');
  const issuer = rows.find((r) => c.checkIssued(new X509Certificate(r.der)) && c.verify(new X509Certificate(r.der).publicKey));
  return issuer ? [Buffer.from(issuer.der)] : [];
}

export function createSealDocumentSigningActivities(deps: { hsm: Hsm; db: Db; platformKey: PlatformSigningKey }) {
  return {
    async signSealDocument({ sealId, kind }: { sealId: string; kind: 'production_certificate' | 'cancellation_certificate' }): Promise<{ signedBy: 'maker_seal' | 'platform' | 'already' }> {
      const { db, hsm } = deps;
      const doc = await db('documents as d').leftJoin('signed_documents as s', 's.document_id', 'd.id').where({ 'd.seal_id': sealId, 'd.kind': kind }).first('d.id', 'd.pdf', 's.signed_by');
      if (!doc) throw new Error(`no ${kind} for seal ${sealId}`);
      if (doc.signed_by) return { signedBy: 'already' };
      const pdf = Buffer.from(doc.pdf as Buffer);
      const maker = await db('seals as s').join('cases as c', 'c.id', 's.case_id').join('makers as m', 'm.id', 'c.maker_id').where('s.id', sealId).first('m.name', 'm.uscc');
      const makerSeal = await db('seals as s')
        .join('holders as h', 'h.id', 's.holder_id')
        .join('seal_keys as k', 'k.seal_id', 's.id')
        .where({ 'h.uscc': maker.uscc, 's.kind': 'legal_name', 's.status': 'active' })
        .whereNotNull('s.certificate_der')
        .whereNotNull('k.wrapped_private_key')
        .whereNotNull('s.imprint_png')
        .orderBy('s.created_at', 'desc')
        .first('s.id', 's.text', 's.certificate_der', 's.imprint_png', 'k.wrapping_key_label', 'k.wrapped_private_key');
      let signerCertificate: Buffer;
      let signRaw: (tbs: Buffer) => Promise<Buffer>;
      if (makerSeal) {
        signerCertificate = Buffer.from(makerSeal.certificate_der);
        signRaw = (tbs) => hsm.signWithWrappedKey(makerSeal.wrapping_key_label, makerSeal.wrapped_private_key, tbs);
      } else {
        const row = await db('ca_certificates').where({ fingerprint_sha256: deps.platformKey.certificateFingerprint }).first('der');
        signerCertificate = Buffer.from(row.der);
        signRaw = (tbs) => hsm.signEcdsaSha256(deps.platformKey.keyLabel, tbs);
      }
      const chain = await issuingChain(db, signerCertificate);
      const signedAt = new Date();
      const signed = await signPdf({
        pdf,
        imprintPng: makerSeal ? Buffer.from(makerSeal.imprint_png) : undefined,
        placement: { ...DOCUMENT_SEAL_BLOCK, sizeMm: ROUND_SEAL_MM },
        signingTime: signedAt,
        name: makerSeal ? String(maker.name) : `北京市电子印章平台（代${String(maker.name)}）`,
        reason: makerSeal
          ? `${kind === 'production_certificate' ? '电子印章制作证书' : '电子印章登出证书'}：制作单位电子印章，由平台代为签署`
          : '制作单位尚无有效电子印章，由平台签名密钥代为签署 / The maker has no live seal; signed by the platform key on its behalf',
        signCms: async (covered) => {
          const attrs = buildSignedAttributes({ messageDigest: covered, signerCertificate });
          const signature = toDerEcdsaSignature(await signRaw(attrs.der));
          return assembleSignedData({ attributes: attrs.attributes, signature, signerCertificate, chain });
        },
      });
      // Once per document: a concurrent retry's signature stays.
      await db('signed_documents').insert({ document_id: doc.id, pdf: signed, signed_by: makerSeal ? 'maker_seal' : 'platform', seal_id: makerSeal?.id ?? null, signed_at: signedAt }).onConflict('document_id').ignore();
      return { signedBy: makerSeal ? 'maker_seal' : 'platform' };
    },
  };
}
