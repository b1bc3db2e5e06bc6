// I2 (互认): a signature made with a seal another platform filed here (OFD/SES, CMS or PAdES) is recognised
// when that platform is on the trust list and active, the signer's certificate (and the seal's maker) still
// chain to its listed roots, and the platform's status data does not revoke it: its OCSP responder (when the
// certificate names one and the platform lists its address) and its CRL (cached; fetched when stale).
// Otherwise the report says why: platform suspended or withdrawn, chain broken, certificate revoked, or
// status unknown (neither answer to be had).
import { createHash } from 'node:crypto';
import { certificateView } from './certificate-view';
import type { Db } from '../infra/db';
import { chainTo, readCertificate } from '../infra/pki/foreign';
import { currentCrl } from '../infra/pki/foreign-crls';
import { foreignOcspStatus, ocspAddressesOf } from '../infra/pki/foreign-ocsp';
import { conclude, type ValidationFindings } from '../domain/signature-validation';
import { PLATFORM_STATUS_LABELS, type PlatformStatus } from '../domain/trust-list';
import { SEAL_KIND_LABELS, type SealKind } from '../domain/seals';
import type { SignatureReport } from './verification';

export interface ExternalRecognition {
  platform: { code: string; name: string; status: string };
  seal: SignatureReport['seal'];
  chainOk: boolean;
  chain: Buffer[];
  revokedAt: Date | null;
  statusUnknown: boolean;
  messages: Array<{ zh: string; en: string }>;
}

const sm3 = (b: Buffer) => createHash('sm3').update(b).digest('hex');

/** The filed external seal of `signer`, judged; null when no platform filed it (not recognised). */
export async function recogniseExternal(db: Db, s: { signer: Buffer; maker: Buffer | null; sealDer: Buffer | null; at: Date; now: Date }): Promise<ExternalRecognition | null> {
  const filed = await db('external_seals as e').join('trusted_platforms as p', 'p.id', 'e.platform_id').where('e.certificate_sm3', sm3(s.signer)).first('e.*', 'p.code as platform_code', 'p.name as platform_name', 'p.status as platform_status', 'p.crl_url', 'p.ocsp_url');
  if (!filed) return null;
  const messages: Array<{ zh: string; en: string }> = [];
  const status = filed.platform_status as PlatformStatus;
  const platform = { code: filed.platform_code, name: filed.platform_name, status };
  const label = SEAL_KIND_LABELS[filed.kind as SealKind];
  const seal = {
    id: filed.id,
    seal_code: filed.es_id,
    kind: filed.kind,
    kind_zh: label ? (filed.number ? `${label.zh}(${filed.number})` : label.zh) : filed.kind,
    text: filed.name,
    status_now: filed.status === 'filed' ? 'active' : 'cancelled',
    holder: { name: filed.holder_name, uscc: filed.holder_uscc },
  };
  const out: ExternalRecognition = { platform, seal, chainOk: false, chain: [], revokedAt: null, statusUnknown: false, messages };
  messages.push({ zh: `此电子印章由互认平台“${platform.name}”（${platform.code}）制作并在本平台备案`, en: `This seal was made by the recognised platform "${platform.name}" (${platform.code}) and filed here` });
  if (status !== 'active') {
    messages.push({ zh: `该平台当前${PLATFORM_STATUS_LABELS[status].zh}，其印章的签章不予互认`, en: `That platform is now ${PLATFORM_STATUS_LABELS[status].en} on the trust list: signatures with its seals are not recognised` });
    return out;
  }
  if (filed.seal_der && s.sealDer && !Buffer.from(filed.seal_der).equals(s.sealDer)) {
    messages.push({ zh: '签章中的电子印章与备案的印章数据不一致', en: 'The seal in the signature differs from the seal data filed' });
    return out;
  }
  const certs = await db('trusted_platform_certificates').where({ platform_id: filed.platform_id }).select('role', 'der');
  const roots = certs.filter((c) => c.role === 'root').map((c) => Buffer.from(c.der));
  const makers = certs.filter((c) => c.role === 'maker').map((c) => Buffer.from(c.der));
  // The chain as of the signing time claimed (no proof of time from another platform): the certificate
  // must also be valid now (conclude() judges that without a POE).
  const chain = chainTo(s.signer, s.maker ? [s.maker, ...makers] : makers, roots, s.at);
  if (!chain) {
    messages.push({ zh: '签章者证书不能验证到该平台登记的根证书', en: "The signer's certificate does not chain to a root listed for that platform" });
    return out;
  }
  out.chainOk = true;
  out.chain = chain;
  // Status: the responder answers for the signer's certificate; the CRL for it and the seal's maker.
  const earliest = (a: Date | null, b: Date | null) => (a && b ? (a < b ? a : b) : (a ?? b));
  let known = false;
  if (filed.ocsp_url && ocspAddressesOf(s.signer).length > 0) {
    const { status: ocsp, error } = await foreignOcspStatus(db, { platformId: filed.platform_id, url: filed.ocsp_url, certificate: s.signer, issuer: chain[1] ?? chain[0], now: s.now });
    if (ocsp && ocsp.status !== 'unknown') {
      known = true;
      if (ocsp.status === 'revoked') {
        out.revokedAt = earliest(out.revokedAt, ocsp.revokedAt);
        messages.push({ zh: `该证书已被其平台撤销（OCSP 应答 ${ocsp.thisUpdate.toISOString()}）`, en: `The certificate is revoked by its platform (OCSP answer of ${ocsp.thisUpdate.toISOString()})` });
      } else messages.push({ zh: `证书状态来自该平台的 OCSP 应答（${ocsp.thisUpdate.toISOString()}）`, en: `Status from the platform's OCSP answer of ${ocsp.thisUpdate.toISOString()}` });
    } else {
      messages.push({ zh: `未能取得该平台 OCSP 服务对此证书的应答（${ocsp ? '证书未知' : error}）`, en: `The platform's OCSP responder gave no answer for this certificate (${ocsp ? 'unknown certificate' : error})` });
    }
  }
  if (filed.crl_url) {
    const crl = await currentCrl(db, filed.platform_id, s.now);
    if (crl) {
      known = true;
      const serials = [readCertificate(s.signer).serialHex, ...(s.maker ? [readCertificate(s.maker).serialHex] : [])];
      const hit = serials.map((x) => crl.revoked[x]).find(Boolean);
      if (hit) {
        out.revokedAt = earliest(out.revokedAt, new Date(hit));
        messages.push({ zh: `该证书已被其平台撤销（撤销列表 ${crl.thisUpdate.toISOString()}）`, en: `The certificate is revoked by its platform (CRL of ${crl.thisUpdate.toISOString()})` });
      }
    }
  }
  if (!known) {
    out.statusUnknown = true;
    messages.push({ zh: '无法取得该平台的有效证书撤销列表或 OCSP 应答：证书状态未知', en: "Neither a current CRL nor an OCSP answer of that platform could be had: the certificate's status is unknown" });
  }
  return out;
}


/**
 * The report of a signature by a filed external seal, from the signature's own checks and the platform's
 * judgement: the platform named, its chain, the status from its CRL/OCSP, and the conclusion (INDETERMINATE
 * TRY_LATER when the checks pass but the status cannot be had).
 */
export function reportExternal(report: SignatureReport, external: ExternalRecognition, f: Omit<ValidationFindings, 'chainOk' | 'revokedAt' | 'holdSince'>): void {
  report.platform = external.platform;
  report.messages.push(...external.messages);
  const c = conclude({ ...f, chainOk: external.chainOk, revokedAt: external.revokedAt, holdSince: null });
  const statusUnknown = c.indication === 'TOTAL-PASSED' && external.statusUnknown;
  report.indication = statusUnknown ? 'INDETERMINATE' : c.indication;
  report.sub_indication = statusUnknown ? 'TRY_LATER' : c.subIndication;
  report.checks = { format: f.formatOk, message_digest: f.digestOk, signature_value: f.signatureOk, signing_certificate: f.signingCertificateOk, chain: external.chainOk };
  report.chain = external.chainOk ? external.chain.map((d, i, all) => ({ ...certificateView(d), role: i === 0 ? 'signer' : i === all.length - 1 ? 'root' : 'issuing_ca' })) : [];
  const statusKnown = external.chainOk && !external.statusUnknown;
  report.certificate_status = {
    at_signing_time: statusKnown ? c.statusAtSigningTime : 'unknown',
    now: statusKnown ? c.statusNow : 'unknown',
    revoked_at: external.revokedAt?.toISOString() ?? null,
    revocation_reason: null,
    on_hold_since: null,
  };
  report.seal = external.seal;
  if (c.subIndication === 'REVOKED' && !f.poe) report.messages.push({ zh: '签章自述的签署时间晚于证书撤销时间', en: 'The signature claims to have been made after the certificate was revoked' });
}
