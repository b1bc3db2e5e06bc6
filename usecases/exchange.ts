// I2: data exchange with other e-seal platforms (seed 四(二) "数据对接，实现互通互认，完成电子印章备案").
// Filing (备案): a listed, active platform files one of its seals — a GB/T 38540 SESeal (v4), or an X.509
// seal certificate with its imprint — with the holder's data; it is checked (structure, the maker's
// signature, the chain to the platform's listed roots, the certificate's status in the platform's CRL, the
// holder's USCC, A1 against our seals and earlier filings) and recorded in the district's filings, which
// officers (their district) and supervisors (the city) see like our own seals. Export: our seals and their
// status, in the same format. The client is an API client of the `platform` tier (usecases/api-clients.ts:
// OAuth client credentials, scope `exchange`), whose service account of role `exchange` is bound to one
// listed platform (exchange_accounts).
import { createHash, randomUUID } from 'node:crypto';
import { conflict, DomainError, fieldRef, invalidField, requiredField, ValidationCollector, isDomainError } from '../domain/errors';
import { forbidden } from '../domain/refusals';
import type { Actor } from '../domain/actor';
import { getDistrict } from '../domain/districts';
import { parseUscc } from '../domain/uscc';
import { isBusinessSealKind, parseSealKind, SEAL_KIND_LABELS, type SealKind, type SealStatus } from '../domain/seals';
import { assertBusinessSealNumberAvailable, assertNoLiveLegalNameSeal, type NumberedSealRecord } from '../domain/numbering';
import type { Db } from '../infra/db';
import type { IncomingFile } from '../infra/blobs';
import { readSeal } from '../infra/gm/ses';
import { chainTo, readCertificate } from '../infra/pki/foreign';
import { currentCrl } from '../infra/pki/foreign-crls';

export const EXCHANGE_FIELDS = {
  seal: fieldRef('seal', '电子印章数据（SESeal）', 'Seal data (SESeal)'),
  certificate: fieldRef('certificate', '印章证书', 'Seal certificate'),
  imprint: fieldRef('imprint', '印模图像', 'Imprint image'),
  holderUscc: fieldRef('holder_uscc', '用章单位统一社会信用代码', "Holder's unified social credit code"),
  holderName: fieldRef('holder_name', '用章单位名称', "Holder's name"),
  sealKind: fieldRef('seal_kind', '印章类型', 'Seal kind'),
  sealNumber: fieldRef('seal_number', '印章编号', 'Seal number'),
  sealName: fieldRef('seal_name', '印章名称', 'Seal name'),
  district: fieldRef('district_code', '备案辖区', 'District of filing'),
};
/** An SESeal or certificate is a few kilobytes plus the imprint. */
export const FILING_MAX_BYTES = 512 * 1024;

const sm3 = (b: Buffer) => createHash('sm3').update(b).digest('hex');

async function platformOf(db: Db, actor: Actor) {
  if (actor.role !== 'exchange') throw forbidden('Only a data-exchange account of a recognised platform files seals', '只有互认平台的数据交换账户可以备案印章');
  const p = await db('exchange_accounts as a').join('trusted_platforms as p', 'p.id', 'a.platform_id').where('a.user_id', actor.userId).first('p.id', 'p.code', 'p.name', 'p.status', 'p.crl_url');
  if (!p) throw forbidden('This account is bound to no recognised platform', '该账户未绑定互认平台');
  return p as { id: string; code: string; name: string; status: string; crl_url: string | null };
}

/** DER, or PEM of one certificate. */
function derOf(bytes: Buffer): Buffer {
  const text = bytes.subarray(0, 64).toString('latin1');
  if (!text.startsWith('-----BEGIN')) return bytes;
  const b64 = bytes.toString('latin1').replace(/-----(BEGIN|END)[^-]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(b64, 'base64');
}

interface Candidate {
  format: 'ses_v4' | 'x509';
  esId: string;
  name: string;
  sealDer: Buffer | null;
  signer: Buffer;
  maker: Buffer | null;
  imprint: Buffer;
  imprintType: string;
  validFrom: Date;
  validTo: Date;
  /** The field a certificate refusal names. */
  field: typeof EXCHANGE_FIELDS.seal;
}

async function readFiling(files: IncomingFile[], v: ValidationCollector): Promise<Candidate | null> {
  const byField = (f: string) => files.find((x) => x.field === f);
  const seal = byField('seal');
  const certificate = byField('certificate');
  const imprint = byField('imprint');
  for (const f of [seal, certificate, imprint]) {
    if (f?.truncated) v.add(invalidField(EXCHANGE_FIELDS[f.field as 'seal'], `超过 ${FILING_MAX_BYTES / 1024} KiB`, `exceeds ${FILING_MAX_BYTES / 1024} KiB`, { code: 'UPLOAD_TOO_LARGE', httpStatus: 413 }));
  }
  if (v.hasErrors) return null;
  if (seal) {
    if (certificate || imprint) {
      v.add(invalidField(EXCHANGE_FIELDS.certificate, '提交电子印章数据（seal）时不再提交证书和印模', 'is not sent with seal data (seal): send one or the other'));
      return null;
    }
    let s;
    try {
      s = readSeal(await seal.readBytes());
    } catch (e) {
      v.add(invalidField(EXCHANGE_FIELDS.seal, `不是可解析的 GB/T 38540 电子印章数据（${(e as Error).message.slice(0, 120)}）`, `is not readable GB/T 38540 seal data (${(e as Error).message.slice(0, 120)})`, { code: 'SEAL_UNREADABLE' }));
      return null;
    }
    if (!s.makerSignatureValid) {
      v.add(invalidField(EXCHANGE_FIELDS.seal, '制章者签名验证失败', "the seal maker's signature does not verify", { code: 'SEAL_SIGNATURE_INVALID', httpStatus: 422 }));
      return null;
    }
    if (s.signerCertificates.length !== 1) {
      v.add(invalidField(EXCHANGE_FIELDS.seal, '证书列表应恰有一张签章者证书', "the certificate list must hold exactly one signer's certificate", { code: 'SEAL_SIGNERS', httpStatus: 422 }));
      return null;
    }
    return { format: 'ses_v4', esId: s.esId, name: s.name, sealDer: await seal.readBytes(), signer: s.signerCertificates[0]!, maker: s.makerCertificate, imprint: s.picture.data, imprintType: s.picture.type.slice(0, 8), validFrom: s.validStart, validTo: s.validEnd, field: EXCHANGE_FIELDS.seal };
  }
  if (!certificate) {
    v.add(requiredField(EXCHANGE_FIELDS.seal, { details: { or: 'certificate + imprint' } }));
    return null;
  }
  if (!imprint) v.add(requiredField(EXCHANGE_FIELDS.imprint));
  else if (imprint.contentType !== 'image/png' && imprint.contentType !== 'image/jpeg') v.add(invalidField(EXCHANGE_FIELDS.imprint, '应为 PNG 或 JPEG 图像', 'must be a PNG or JPEG image', { code: 'IMPRINT_TYPE', httpStatus: 415 }));
  let cert;
  try {
    cert = readCertificate(derOf(await certificate.readBytes()));
  } catch {
    v.add(invalidField(EXCHANGE_FIELDS.certificate, '不是可解析的 X.509 证书', 'is not a readable X.509 certificate', { code: 'CERTIFICATE_UNREADABLE' }));
    return null;
  }
  if (v.hasErrors) return null;
  return { format: 'x509', esId: cert.serialHex, name: '', sealDer: null, signer: cert.der, maker: null, imprint: await imprint!.readBytes(), imprintType: imprint!.contentType === 'image/png' ? 'PNG' : 'JPEG', validFrom: cert.notBefore, validTo: cert.notAfter, field: EXCHANGE_FIELDS.certificate };
}

/** POST /api/exchange/filings (multipart): files one seal of the caller's platform. */
export async function fileExternalSeal(db: Db, actor: Actor, input: { fields: Record<string, string>; files: IncomingFile[] }, now = new Date()) {
  const platform = await platformOf(db, actor);
  if (platform.status !== 'active') throw new DomainError({ code: 'PLATFORM_NOT_ACTIVE', httpStatus: 403, messageZh: `互认平台“${platform.name}”当前未处于互认状态，不能备案`, messageEn: `The platform "${platform.name}" is not active on the trust list and cannot file seals` });
  const f = input.fields;
  const v = new ValidationCollector();
  const uscc = v.check(() => parseUscc(f.holder_uscc, { field: EXCHANGE_FIELDS.holderUscc }));
  const holderName = (f.holder_name ?? '').trim();
  if (!holderName) v.add(requiredField(EXCHANGE_FIELDS.holderName));
  else if ([...holderName].length > 100 || /[\p{Cc}<>]/u.test(holderName)) v.add(invalidField(EXCHANGE_FIELDS.holderName, '不超过 100 个字符，不含控制字符或尖括号', 'must be at most 100 characters, without control characters or angle brackets'));
  const kind = v.check(() => parseSealKind(f.seal_kind, EXCHANGE_FIELDS.sealKind));
  let number: number | null = null;
  if (kind && isBusinessSealKind(kind)) {
    if (!f.seal_number) v.add(requiredField(EXCHANGE_FIELDS.sealNumber));
    else if (!/^[1-9]\d{0,5}$/.test(f.seal_number)) v.add(invalidField(EXCHANGE_FIELDS.sealNumber, '应为正整数', 'must be a positive whole number', { code: 'SEAL_NUMBER_INVALID' }));
    else number = Number(f.seal_number);
  } else if (kind && f.seal_number) v.add(invalidField(EXCHANGE_FIELDS.sealNumber, '只有业务专用章有编号', 'only business-purpose seals are numbered'));
  const district = v.check(() => getDistrict(f.district_code, EXCHANGE_FIELDS.district));
  const c = await readFiling(input.files, v);
  v.throwIfAny();
  const cand = c!;
  const name = cand.name || (f.seal_name ?? '').trim() || `${holderName}${SEAL_KIND_LABELS[kind!].zh}`;

  // Chain: the maker (SESeal) and the signer's certificate to the platform's listed roots at filing time.
  const certs = await db('trusted_platform_certificates').where({ platform_id: platform.id }).select('role', 'der');
  const roots = certs.filter((x) => x.role === 'root').map((x) => Buffer.from(x.der));
  const makers = certs.filter((x) => x.role === 'maker').map((x) => Buffer.from(x.der));
  const unknownIssuer = (what: { zh: string; en: string }) =>
    invalidField(cand.field, `${what.zh}不能验证到互认平台“${platform.name}”登记的根证书`, `${what.en} does not chain to a root certificate listed for the platform "${platform.name}"`, { code: 'UNKNOWN_ISSUER', httpStatus: 422 });
  if (cand.maker) {
    if (makers.length > 0 && !makers.some((m) => m.equals(cand.maker!))) throw invalidField(cand.field, `制章者证书不是互认平台“${platform.name}”登记的制章者证书`, `the seal maker's certificate is not one listed for the platform "${platform.name}"`, { code: 'UNKNOWN_ISSUER', httpStatus: 422 });
    if (!chainTo(cand.maker, [], roots, now)) throw unknownIssuer({ zh: '制章者证书', en: "the seal maker's certificate" });
  }
  if (!chainTo(cand.signer, cand.maker ? [cand.maker, ...makers] : makers, roots, now)) throw unknownIssuer({ zh: '签章者证书', en: "the signer's certificate" });
  const signer = readCertificate(cand.signer);

  // Status: the platform's CRL (cached, fetched when stale). No CRL, no filing: the status would be unknown.
  if (platform.crl_url) {
    const crl = await currentCrl(db, platform.id, now);
    if (!crl) throw invalidField(cand.field, `无法取得互认平台“${platform.name}”的有效证书撤销列表，证书状态未知，请稍后再试`, `the certificate's status is unknown: no current CRL of the platform "${platform.name}" could be fetched; try again later`, { code: 'STATUS_UNKNOWN', httpStatus: 503 });
    const revokedSerials = [signer.serialHex, ...(cand.maker ? [readCertificate(cand.maker).serialHex] : [])].filter((s) => crl.revoked[s]);
    if (revokedSerials.length) throw invalidField(cand.field, `证书已被其平台撤销（${revokedSerials.join('、')}）`, `the certificate is revoked by its platform (${revokedSerials.join(', ')})`, { code: 'CERTIFICATE_REVOKED', httpStatus: 422 });
  }

  // Holder: a holder known here must be filed under its registered name.
  const holder = await db('holders').where({ uscc: uscc!.code }).first('id', 'name');
  if (holder && holder.name !== holderName) throw invalidField(EXCHANGE_FIELDS.holderName, `与本平台登记的名称“${holder.name}”不一致`, `differs from the name registered here ("${holder.name}")`, { code: 'HOLDER_NAME_MISMATCH', httpStatus: 422 });

  // The same seal filed again (by its certificate or its identifier on the platform).
  const duplicate = await db('external_seals').where({ certificate_sm3: sm3(cand.signer) }).orWhere({ platform_id: platform.id, es_id: cand.esId }).first('id');
  const alreadyFiled = () => invalidField(cand.field, '该印章已备案', 'this seal has already been filed', { code: 'ALREADY_FILED', httpStatus: 409, details: duplicate ? { filingId: duplicate.id } : undefined });
  if (duplicate) throw alreadyFiled();
  // A1: one live legal-name seal per holder, business seal numbers never reused — across our seals and filings.
  const ours: NumberedSealRecord[] = holder ? await db('seals').where({ holder_id: holder.id }).select('id', 'kind', 'status', 'number') : [];
  const filed: NumberedSealRecord[] = (await db('external_seals').where({ holder_uscc: uscc!.code }).select('id', 'kind', 'status', 'number')).map((s) => ({ ...s, status: (s.status === 'filed' ? 'active' : 'cancelled') as SealStatus }));
  const a1 = (fn: () => void, field: typeof EXCHANGE_FIELDS.sealKind) => {
    try {
      fn();
    } catch (e) {
      if (!isDomainError(e)) throw e;
      throw new DomainError({ code: e.code, httpStatus: 409, field, messageZh: `${field.zh}：${e.messageZh}`, messageEn: `${field.en}: ${e.messageEn}`, details: e.details });
    }
  };
  if (kind === 'legal_name') a1(() => assertNoLiveLegalNameSeal([...ours, ...filed]), EXCHANGE_FIELDS.sealKind);
  if (number !== null) a1(() => assertBusinessSealNumberAvailable([...ours, ...filed], kind as never, number), EXCHANGE_FIELDS.sealNumber);

  const id = randomUUID();
  try {
    await db('external_seals').insert({
      id,
      platform_id: platform.id,
      district_code: district!.code,
      format: cand.format,
      es_id: cand.esId.slice(0, 64),
      holder_uscc: uscc!.code,
      holder_name: holderName,
      kind,
      number,
      name: name.slice(0, 200),
      seal_der: cand.sealDer,
      certificate_der: cand.signer,
      certificate_sm3: sm3(cand.signer),
      certificate_serial: signer.serialHex.slice(0, 64),
      maker_sha256: cand.maker ? createHash('sha256').update(cand.maker).digest('hex') : null,
      imprint: cand.imprint,
      imprint_type: cand.imprintType,
      valid_from: cand.validFrom,
      valid_to: cand.validTo,
      filed_by: actor.userId,
      filed_at: now,
    });
  } catch (e) {
    if ((e as { code?: string; constraint?: string }).code === '23505') {
      const constraint = (e as { constraint?: string }).constraint ?? '';
      if (constraint.includes('legal_name')) throw conflict('LEGAL_NAME_SEAL_EXISTS', `${EXCHANGE_FIELDS.sealKind.zh}：该单位已有一枚未注销的法定名称章`, `${EXCHANGE_FIELDS.sealKind.en}: the holder already has a live legal-name seal`);
      if (constraint.includes('business_number')) throw conflict('SEAL_NUMBER_USED', `${EXCHANGE_FIELDS.sealNumber.zh}：编号已被使用`, `${EXCHANGE_FIELDS.sealNumber.en}: the number has already been used`);
      throw alreadyFiled();
    }
    throw e;
  }
  return externalSealView(db, id);
}

async function externalSealView(db: Db, id: string) {
  const s = await db('external_seals as e').join('trusted_platforms as p', 'p.id', 'e.platform_id').where('e.id', id).first('e.*', 'p.code as platform_code', 'p.name as platform_name', 'p.status as platform_status');
  return viewOf(s);
}

function viewOf(s: Record<string, any>) {
  const label = SEAL_KIND_LABELS[s.kind as SealKind];
  return {
    id: s.id,
    platform: { code: s.platform_code, name: s.platform_name, status: s.platform_status },
    district_code: s.district_code,
    format: s.format,
    es_id: s.es_id,
    holder: { uscc: s.holder_uscc, name: s.holder_name },
    seal_kind: s.kind,
    seal_kind_zh: label ? (s.number ? `${label.zh}(${s.number})` : label.zh) : s.kind,
    seal_number: s.number ?? null,
    seal_name: s.name,
    certificate_serial: s.certificate_serial,
    valid_from: new Date(s.valid_from).toISOString(),
    valid_to: new Date(s.valid_to).toISOString(),
    status: s.status,
    filed_at: new Date(s.filed_at).toISOString(),
  };
}

/** GET /api/external-seals: seals filed by other platforms — officers their district's, supervisors the city's. */
export async function listExternalSeals(db: Db, actor: Actor, query: { district_code?: unknown } = {}) {
  if (actor.role !== 'officer' && actor.role !== 'supervisor') throw forbidden();
  const q = db('external_seals as e').join('trusted_platforms as p', 'p.id', 'e.platform_id').orderBy('e.filed_at', 'desc').limit(500).select('e.*', 'p.code as platform_code', 'p.name as platform_name', 'p.status as platform_status');
  if (actor.role === 'officer') q.where('e.district_code', actor.districtCode);
  else if (query.district_code) q.where('e.district_code', getDistrict(query.district_code, EXCHANGE_FIELDS.district).code);
  return { filings: (await q).map(viewOf) };
}

/**
 * GET /api/exchange/seals: our seals in the exchange format (the SESeal, its status), for other platforms
 * (exchange accounts) and supervisors; paged by seal code. Personal data is left out: the holder's USCC and
 * name only, as on the seal.
 */
export async function exportOurSeals(db: Db, actor: Actor, query: { after?: unknown; limit?: unknown } = {}) {
  // A suspended or withdrawn platform reads nothing of ours either (filing refuses it too).
  if (actor.role === 'exchange') {
    if ((await platformOf(db, actor)).status !== 'active') throw forbidden('The platform is not active on the trust list', '该平台在互认名单上不是有效状态');
  } else if (actor.role !== 'supervisor') throw forbidden();
  const limit = Math.min(500, Math.max(1, Number(query.limit ?? 100) || 100));
  const after = typeof query.after === 'string' ? query.after : '';
  const rows = await db('seals as s')
    .join('holders as h', 'h.id', 's.holder_id')
    .leftJoin('seal_national as n', 'n.seal_id', 's.id')
    .whereNotNull('s.seal_code')
    .whereNotNull('s.certificate_der')
    .where('s.seal_code', '>', after)
    .orderBy('s.seal_code')
    .limit(limit)
    .select('s.seal_code', 's.kind', 's.number', 's.text', 's.status', 's.revoked_at', 's.revocation_reason', 'h.uscc', 'h.name as holder_name', 'h.district_code', 'n.seal_der', 'n.certificate_der as sm2_certificate_der', 's.certificate_der', 's.imprint_png');
  return {
    seals: rows.map((r) => ({
      es_id: r.seal_code,
      // The SESeal once the seal has one (made at its first OFD use or download), else its X.509 certificate and imprint.
      format: r.seal_der ? 'ses_v4' : 'x509',
      holder: { uscc: r.uscc, name: r.holder_name },
      seal_kind: r.kind,
      seal_number: r.number ?? null,
      seal_name: r.text,
      district_code: r.district_code,
      status: r.status,
      revoked_at: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
      seal: r.seal_der ? Buffer.from(r.seal_der).toString('base64') : null,
      certificate: Buffer.from(r.sm2_certificate_der ?? r.certificate_der).toString('base64'),
      imprint: r.seal_der || !r.imprint_png ? null : Buffer.from(r.imprint_png).toString('base64'),
      certificate_serial: readCertificate(Buffer.from(r.sm2_certificate_der ?? r.certificate_der)).serialHex,
    })),
    next_after: rows.length === limit ? rows[rows.length - 1].seal_code : null,
  };
}

