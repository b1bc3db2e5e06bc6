/**
 * Holder kinds (S2): the seven kinds of unit or organisation 单位或者机构 that may hold electronic seals,
 * identified by their unified social credit code.
 */
import { FIELDS, type FieldRef, invalidField, requiredField } from './errors';
import type { UsccParts } from './uscc';

export const HOLDER_KINDS = [
  'state_organ',
  'peoples_organisation',
  'social_organisation',
  'enterprise',
  'public_institution',
  'individual_business',
  'other_organisation',
] as const;

export type HolderKind = (typeof HOLDER_KINDS)[number];

export const HOLDER_KIND_LABELS: Readonly<Record<HolderKind, { zh: string; en: string }>> = {
  state_organ: { zh: '国家机关', en: 'State organ' },
  peoples_organisation: { zh: '人民团体', en: "People's organisation" },
  social_organisation: { zh: '社会组织', en: 'Social organisation' },
  enterprise: { zh: '企业单位', en: 'Enterprise' },
  public_institution: { zh: '事业单位', en: 'Public institution' },
  individual_business: { zh: '个体工商户', en: 'Individual business' },
  other_organisation: { zh: '其他组织', en: 'Other organisation' },
};

/**
 * A4: newly established holders of these kinds follow national rules (their establishment document needs an
 * officer's explicit approval) instead of the shared-registration shortcut of A3.
 */
export const NATIONAL_RULE_HOLDER_KINDS: readonly HolderKind[] = ['state_organ', 'peoples_organisation'];

export function isHolderKind(value: unknown): value is HolderKind {
  return typeof value === 'string' && (HOLDER_KINDS as readonly string[]).includes(value);
}

export function parseHolderKind(value: unknown, field: FieldRef = FIELDS.holderKind): HolderKind {
  if (value === undefined || value === null || value === '') throw requiredField(field);
  if (!isHolderKind(value)) {
    throw invalidField(
      field,
      `“${String(value)}”不是有效的单位类型（应为：${HOLDER_KINDS.map((k) => HOLDER_KIND_LABELS[k].zh).join('、')}）`,
      `"${String(value)}" is not a holder kind (expected one of: ${HOLDER_KINDS.join(', ')})`,
      { code: 'UNKNOWN_HOLDER_KIND', details: { value: String(value) } },
    );
  }
  return value;
}

export function holderKindLabel(kind: HolderKind): { zh: string; en: string } {
  return HOLDER_KIND_LABELS[kind];
}

/**
 * The holder kind a USCC suggests, from its registration department and organisation category (GB 32100),
 * to pre-fill a form. Undefined where the code does not say (the officer decides). Not authoritative: an
 * officer may correct it.
 *
 *   1-1 机关 → state_organ; 1-2 事业单位 → public_institution; 1-3 群众团体 → peoples_organisation
 *   5-x 民政 (社会团体, 民办非企业单位, 基金会) → social_organisation
 *   9-1 企业 → enterprise; 9-2 个体工商户 → individual_business; 9-3 农民专业合作社 → other_organisation
 *   A-1 军队事业单位 → public_institution
 *   2, 3, 4, 6, 7, N (law firms, notaries, religious venues, collectives, foreign offices …) → other_organisation
 */
export function suggestHolderKind(uscc: Pick<UsccParts, 'registrationDepartmentCode' | 'organisationCategoryCode'>):
  | HolderKind
  | undefined {
  const d = uscc.registrationDepartmentCode;
  const c = uscc.organisationCategoryCode;
  switch (d) {
    case '1':
      return c === '1' ? 'state_organ' : c === '2' ? 'public_institution' : c === '3' ? 'peoples_organisation' : undefined;
    case '5':
      return 'social_organisation';
    case '9':
      return c === '1' ? 'enterprise' : c === '2' ? 'individual_business' : c === '3' ? 'other_organisation' : undefined;
    case 'A':
      return c === '1' ? 'public_institution' : undefined;
    case '2':
    case '3':
    case '4':
    case '6':
    case '7':
    case 'N':
      return 'other_organisation';
    default:
      return undefined;
  }
}
