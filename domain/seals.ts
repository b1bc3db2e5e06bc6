/**
 * Seal kinds (S1), personal-name seal roles, which kinds each holder kind may have, and seal statuses.
 */
import { FIELDS, type FieldRef, invalidField, requiredField, ruleViolation, withArticle } from './errors';
import { HOLDER_KIND_LABELS, type HolderKind } from './holders';

export const SEAL_KINDS = [
  'legal_name',
  'internal_department',
  'branch',
  'business_contract',
  'business_finance',
  'business_invoice',
  'business_inspection',
  'business_customs',
  'personal_name',
] as const;

export type SealKind = (typeof SEAL_KINDS)[number];

/** 业务专用章: the kinds that may exist several times, told apart by Arabic numerals (A1). */
export const BUSINESS_SEAL_KINDS = [
  'business_contract',
  'business_finance',
  'business_invoice',
  'business_inspection',
  'business_customs',
] as const satisfies readonly SealKind[];

export type BusinessSealKind = (typeof BUSINESS_SEAL_KINDS)[number];

/** Public seals 电子公章, as opposed to personal name seals 电子个人名章 (S1). */
export const PUBLIC_SEAL_KINDS: readonly SealKind[] = SEAL_KINDS.filter((k) => k !== 'personal_name');

export const SEAL_KIND_LABELS: Readonly<Record<SealKind, { zh: string; en: string }>> = {
  legal_name: { zh: '法定名称章', en: 'Legal-name seal' },
  internal_department: { zh: '内设机构章', en: 'Internal-department seal' },
  branch: { zh: '分支机构章', en: 'Branch seal' },
  business_contract: { zh: '合同专用章', en: 'Contract seal' },
  business_finance: { zh: '财务专用章', en: 'Finance seal' },
  business_invoice: { zh: '发票专用章', en: 'Invoice seal' },
  business_inspection: { zh: '审验专用章', en: 'Inspection seal' },
  business_customs: { zh: '报关专用章', en: 'Customs declaration seal' },
  personal_name: { zh: '个人名章', en: 'Personal name seal' },
};

export const PERSONAL_SEAL_ROLES = [
  'legal_representative',
  'operator',
  'principal',
  'finance_head',
  'authorised_representative',
] as const;

export type PersonalSealRole = (typeof PERSONAL_SEAL_ROLES)[number];

export const PERSONAL_SEAL_ROLE_LABELS: Readonly<Record<PersonalSealRole, { zh: string; en: string }>> = {
  legal_representative: { zh: '法定代表人', en: 'Legal representative' },
  operator: { zh: '经营者', en: 'Operator' },
  principal: { zh: '主要负责人', en: 'Principal' },
  finance_head: { zh: '财务负责人', en: 'Finance head' },
  authorised_representative: { zh: '授权代表人', en: 'Authorised representative' },
};

const ALL: readonly SealKind[] = SEAL_KINDS;

/**
 * Which seal kinds each holder kind may have. The regulation lists the kinds but not who may hold which;
 * these are the choices a Beijing seal office would expect:
 *
 * - Everyone has a legal-name seal, contract and finance seals, and personal name seals.
 * - Enterprises, social organisations, public institutions and other organisations may have every kind:
 *   they have internal departments and branches (公司分公司, 社会团体分支机构, 律所分所), issue tax invoices,
 *   may inspect/verify (检验检测机构, 会计师事务所) and may import/export (customs declaration).
 * - State organs and people's organisations: no branch seal (their subordinate bodies are separately
 *   established organs with their own legal-name seals), no invoice seal (they issue fiscal receipts
 *   财政票据, not tax invoices) and no customs-declaration seal (they are not customs declarants; a unit they
 *   run that imports is a separate holder). They keep internal-department and inspection seals (行政审验).
 * - Individual businesses (个体工商户) are one-person/family businesses: no internal departments, no
 *   branches, no inspection business; they may trade, invoice and declare to customs (an individual business
 *   may register as a consignor/consignee with customs).
 */
export const ALLOWED_SEAL_KINDS: Readonly<Record<HolderKind, readonly SealKind[]>> = {
  state_organ: ['legal_name', 'internal_department', 'business_contract', 'business_finance', 'business_inspection', 'personal_name'],
  peoples_organisation: ['legal_name', 'internal_department', 'business_contract', 'business_finance', 'business_inspection', 'personal_name'],
  social_organisation: ALL,
  enterprise: ALL,
  public_institution: ALL,
  individual_business: ['legal_name', 'business_contract', 'business_finance', 'business_invoice', 'business_customs', 'personal_name'],
  other_organisation: ALL,
};

/**
 * Whose personal name seal each holder kind may have. An individual business has an operator 经营者 and no
 * legal representative, principal or finance head in law, so only the operator's seal. Every other kind has
 * a legal representative or principal (主要负责人: heads of organs, partnerships, sole-proprietorships,
 * branches), a finance head and authorised representatives, but no "operator".
 */
export const ALLOWED_PERSONAL_SEAL_ROLES: Readonly<Record<HolderKind, readonly PersonalSealRole[]>> = {
  state_organ: ['legal_representative', 'principal', 'finance_head', 'authorised_representative'],
  peoples_organisation: ['legal_representative', 'principal', 'finance_head', 'authorised_representative'],
  social_organisation: ['legal_representative', 'principal', 'finance_head', 'authorised_representative'],
  enterprise: ['legal_representative', 'principal', 'finance_head', 'authorised_representative'],
  public_institution: ['legal_representative', 'principal', 'finance_head', 'authorised_representative'],
  individual_business: ['operator'],
  other_organisation: ['legal_representative', 'principal', 'finance_head', 'authorised_representative'],
};

export function isSealKind(value: unknown): value is SealKind {
  return typeof value === 'string' && (SEAL_KINDS as readonly string[]).includes(value);
}

export function isBusinessSealKind(kind: SealKind): kind is BusinessSealKind {
  return (BUSINESS_SEAL_KINDS as readonly SealKind[]).includes(kind);
}

export function isPersonalSealRole(value: unknown): value is PersonalSealRole {
  return typeof value === 'string' && (PERSONAL_SEAL_ROLES as readonly string[]).includes(value);
}

export function sealKindLabel(kind: SealKind): { zh: string; en: string } {
  return SEAL_KIND_LABELS[kind];
}

export function parseSealKind(value: unknown, field: FieldRef = FIELDS.sealKind): SealKind {
  if (value === undefined || value === null || value === '') throw requiredField(field);
  if (!isSealKind(value)) {
    throw invalidField(
      field,
      `“${String(value)}”不是有效的印章类型`,
      `"${String(value)}" is not a seal kind (expected one of: ${SEAL_KINDS.join(', ')})`,
      { code: 'UNKNOWN_SEAL_KIND', details: { value: String(value) } },
    );
  }
  return value;
}

export function parsePersonalSealRole(value: unknown, field: FieldRef = FIELDS.personalSealRole): PersonalSealRole {
  if (value === undefined || value === null || value === '') throw requiredField(field);
  if (!isPersonalSealRole(value)) {
    throw invalidField(
      field,
      `“${String(value)}”不是有效的个人名章人员身份`,
      `"${String(value)}" is not a personal name seal role (expected one of: ${PERSONAL_SEAL_ROLES.join(', ')})`,
      { code: 'UNKNOWN_PERSONAL_SEAL_ROLE', details: { value: String(value) } },
    );
  }
  return value;
}

export function isSealKindAllowed(holderKind: HolderKind, sealKind: SealKind): boolean {
  return ALLOWED_SEAL_KINDS[holderKind].includes(sealKind);
}

/** Throws a DomainError (HTTP 422, field sealKind) when the holder kind may not have this seal kind. */
export function assertSealKindAllowed(holderKind: HolderKind, sealKind: SealKind): void {
  if (!isSealKindAllowed(holderKind, sealKind)) {
    const h = HOLDER_KIND_LABELS[holderKind];
    const s = SEAL_KIND_LABELS[sealKind];
    throw ruleViolation('SEAL_KIND_NOT_ALLOWED', `${h.zh}不能申请${s.zh}`, `${withArticle(h.en)} may not have ${withArticle(s.en)}`, {
      field: FIELDS.sealKind,
      details: { holderKind, sealKind },
    });
  }
}

export function isPersonalSealRoleAllowed(holderKind: HolderKind, role: PersonalSealRole): boolean {
  return ALLOWED_PERSONAL_SEAL_ROLES[holderKind].includes(role);
}

/** Throws a DomainError (HTTP 422, field personalSealRole) for a role the holder kind does not have. */
export function assertPersonalSealRoleAllowed(holderKind: HolderKind, role: PersonalSealRole): void {
  if (!isPersonalSealRoleAllowed(holderKind, role)) {
    const h = HOLDER_KIND_LABELS[holderKind];
    const r = PERSONAL_SEAL_ROLE_LABELS[role];
    const allowed = ALLOWED_PERSONAL_SEAL_ROLES[holderKind];
    throw ruleViolation(
      'PERSONAL_SEAL_ROLE_NOT_ALLOWED',
      `${h.zh}不能申请${r.zh}个人名章（可申请：${allowed.map((x) => PERSONAL_SEAL_ROLE_LABELS[x].zh).join('、')}）`,
      `${withArticle(h.en)} may not have a personal name seal for ${withArticle(r.en)} (allowed: ${allowed.join(', ')})`,
      { field: FIELDS.personalSealRole, details: { holderKind, role } },
    );
  }
}

/**
 * Seal statuses, as the domain understands them:
 *   in_production  being produced by the maker
 *   ready          produced, waiting to be collected (M9's 3-month clock runs)
 *   active         issued to the holder, usable for signing
 *   suspended      暂停使用, may be resumed (M12)
 *   stopped        停止使用 (M12); still on record until cancelled
 *   cancelled      登出/注销 (M9 unclaimed, M11 replacement, M13); terminal
 * Every status except `cancelled` is live: a live seal blocks a second legal-name seal (A1), so a holder whose
 * legal-name seal is stopped must cancel it before a new one is produced (as for replacement, M11).
 */
export const SEAL_STATUSES = ['in_production', 'ready', 'active', 'suspended', 'stopped', 'cancelled'] as const;

export type SealStatus = (typeof SEAL_STATUSES)[number];

export const SEAL_STATUS_LABELS: Readonly<Record<SealStatus, { zh: string; en: string }>> = {
  in_production: { zh: '制作中', en: 'In production' },
  ready: { zh: '待领取', en: 'Ready for collection' },
  active: { zh: '已发放', en: 'Active' },
  suspended: { zh: '暂停使用', en: 'Suspended' },
  stopped: { zh: '停止使用', en: 'Stopped' },
  cancelled: { zh: '已注销', en: 'Cancelled' },
};

export function isLiveSealStatus(status: SealStatus): boolean {
  return status !== 'cancelled';
}
