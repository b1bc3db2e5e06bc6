// I2 (互认): a signature made with a seal another platform filed here is recognised when that platform is
// on the trust list and active, the signer's certificate (and the seal's maker) still chain to its listed
// roots, and the platform's CRL (cached; fetched when stale) does not revoke it. Otherwise the report says
// why: platform suspended or withdrawn, chain broken, certificate revoked, or status unknown (no CRL).
import { createHash } from 'node:crypto';
import type { Db } from '../infra/db';
import { chainTo, readCertificate } from '../infra/pki/foreign';
import { currentCrl } from '../infra/pki/foreign-crls';
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
  const filed = await db('external_seals as e').join('trusted_platforms as p', 'p.id', 'e.platform_id').where('e.certificate_sm3', sm3(s.signer)).first('e.*', 'p.code as platform_code', 'p.name as platform_name', 'p.status as platform_status', 'p.crl_url');
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
  if (filed.crl_url) {
    const crl = await currentCrl(db, filed.platform_id, s.now);
    if (!crl) {
      out.statusUnknown = true;
      messages.push({ zh: '无法取得该平台的有效证书撤销列表：证书状态未知', en: "No current CRL of that platform could be had: the certificate's status is unknown" });
    } else {
      const serials = [readCertificate(s.signer).serialHex, ...(s.maker ? [readCertificate(s.maker).serialHex] : [])];
      const hit = serials.map((x) => crl.revoked[x]).find(Boolean);
      if (hit) {
        out.revokedAt = new Date(hit);
        messages.push({ zh: `该证书已被其平台撤销（撤销列表 ${crl.thisUpdate.toISOString()}）`, en: `The certificate is revoked by its platform (CRL of ${crl.thisUpdate.toISOString()})` });
      }
    }
  }
  return out;
}
