// I2: the trust list — the other e-seal platforms the city recognises — and the words of its rules. Pure.
import { fieldRef, invalidField, requiredField, ValidationCollector, type FieldRef } from './errors';

export const PLATFORM_STATUSES = ['active', 'suspended', 'withdrawn'] as const;
export type PlatformStatus = (typeof PLATFORM_STATUSES)[number];
export const PLATFORM_STATUS_LABELS: Readonly<Record<PlatformStatus, { zh: string; en: string }>> = {
  active: { zh: '互认中', en: 'active' },
  suspended: { zh: '暂停互认', en: 'suspended' },
  withdrawn: { zh: '已撤销', en: 'withdrawn' },
};

export const TRUST_FIELDS = {
  platformId: fieldRef('platform_id', '互认平台', 'Platform'),
  code: fieldRef('code', '平台代码', 'Platform code'),
  name: fieldRef('name', '平台名称', 'Platform name'),
  status: fieldRef('status', '互认状态', 'Status'),
  rootCertificates: fieldRef('root_certificates', '根证书', 'Root certificates'),
  makerCertificates: fieldRef('maker_certificates', '制章者证书', 'Seal-making certificates'),
  crlUrl: fieldRef('crl_url', '证书撤销列表地址', 'CRL address'),
  ocspUrl: fieldRef('ocsp_url', 'OCSP 地址', 'OCSP address'),
  decision: fieldRef('decision', '审批结果', 'Decision'),
  reason: fieldRef('reason', '理由', 'Reason'),
} satisfies Record<string, FieldRef>;

/** A proposed state of one platform, as the second supervisor sees and approves it. Certificates are base64 DER. */
export interface PlatformProposal {
  code: string;
  name: string;
  status: PlatformStatus;
  rootCertificates: string[];
  makerCertificates: string[];
  crlUrl: string | null;
  ocspUrl: string | null;
}

const CODE = /^[A-Z0-9][A-Z0-9-]{1,31}$/;
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MAX_CERTS = 8;
const MAX_CERT_B64 = 16 * 1024;

function url(v: unknown, field: FieldRef, c: ValidationCollector): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || v.length > 500) {
    c.add(invalidField(field, '应为不超过 500 字符的 http(s) 地址', 'must be an http(s) address of at most 500 characters'));
    return null;
  }
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    c.add(invalidField(field, '不是有效的网址', 'is not a valid URL'));
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') c.add(invalidField(field, '只接受 http 或 https 地址', 'must be an http or https address'));
  if (u.username || u.password) c.add(invalidField(field, '不得包含用户名或口令', 'must not carry a user name or password'));
  return v;
}

function certs(v: unknown, field: FieldRef, c: ValidationCollector, required: boolean): string[] {
  if (v === undefined || v === null) {
    if (required) c.add(requiredField(field));
    return [];
  }
  if (!Array.isArray(v) || v.length > MAX_CERTS || (required && v.length === 0)) {
    c.add(invalidField(field, `应为 1 至 ${MAX_CERTS} 个 Base64 编码的 DER 证书`, `must be a list of 1 to ${MAX_CERTS} base64 DER certificates`));
    return [];
  }
  const out: string[] = [];
  v.forEach((x, i) => {
    if (typeof x !== 'string' || x.length === 0 || x.length > MAX_CERT_B64 || !B64.test(x)) c.add(invalidField({ ...field, key: `${field.key}[${i}]` }, '不是 Base64 编码的证书', 'is not a base64 certificate'));
    else out.push(x);
  });
  return out;
}

/** Checks the shape of a proposal (the certificates' contents are checked by the use-case, which can parse them). */
export function parsePlatformProposal(body: unknown, current?: PlatformProposal): PlatformProposal {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const c = new ValidationCollector();
  const pick = <K extends keyof PlatformProposal>(key: string, k: K): unknown => (key in b ? b[key] : current?.[k]);
  const code = pick('code', 'code');
  if (typeof code !== 'string' || !CODE.test(code)) c.add(invalidField(TRUST_FIELDS.code, '应为 2–32 位大写字母、数字或连字符', 'must be 2–32 capital letters, digits or hyphens'));
  const name = pick('name', 'name');
  if (typeof name !== 'string' || !name.trim() || name.length > 200) c.add(invalidField(TRUST_FIELDS.name, '必须填写，不超过 200 字', 'is required, at most 200 characters'));
  const status = pick('status', 'status') ?? 'active';
  if (!PLATFORM_STATUSES.includes(status as PlatformStatus)) c.add(invalidField(TRUST_FIELDS.status, '应为 active、suspended 或 withdrawn', 'must be active, suspended or withdrawn'));
  const rootCertificates = 'root_certificates' in b ? certs(b.root_certificates, TRUST_FIELDS.rootCertificates, c, true) : (current?.rootCertificates ?? certs(undefined, TRUST_FIELDS.rootCertificates, c, true));
  const makerCertificates = 'maker_certificates' in b ? certs(b.maker_certificates, TRUST_FIELDS.makerCertificates, c, false) : (current?.makerCertificates ?? []);
  const crlUrl = 'crl_url' in b ? url(b.crl_url, TRUST_FIELDS.crlUrl, c) : (current?.crlUrl ?? null);
  const ocspUrl = 'ocsp_url' in b ? url(b.ocsp_url, TRUST_FIELDS.ocspUrl, c) : (current?.ocspUrl ?? null);
  c.throwIfAny();
  return { code: code as string, name: (name as string).trim(), status: status as PlatformStatus, rootCertificates, makerCertificates, crlUrl, ocspUrl };
}
