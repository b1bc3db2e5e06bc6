/**
 * Application materials (A2), the shared-registration exemption (A3) and newly established organs (A4).
 *
 * A2 — an existing holder's application carries:
 *   (1) establishment_document            依法批准设立或者登记的证件、文书
 *   (2) superior_introduction_letter      if the holder has a superior or competent authority, else
 *       legal_rep_authorisation_letter    the legal representative's / operator's / principal's authorisation
 *   (3) handler_id_copy                   the handler's valid ID (original checked, copy kept) and contact;
 *       for a personal name seal also person_id_copy + holder_introduction_letter + authorisation_letter
 *   (4) translation                       for seal text in a foreign or minority language
 * A3 — a holder newly registered whose registration data the registration authority shared with public
 *   security needs no materials at all (无须再向印章制作单位提交材料).
 * A4 — a newly established state organ or people's organisation follows national rules: it is not eligible
 *   for A3; it submits the A2 materials and its establishment document needs an officer's explicit approval
 *   (`requiresOfficerApproval`).
 */
import { FIELDS, invalidField, ruleViolation, withArticle } from './errors';
import { HOLDER_KIND_LABELS, type HolderKind, NATIONAL_RULE_HOLDER_KINDS } from './holders';
import type { SealKind } from './seals';

export const MATERIAL_KINDS = [
  'establishment_document',
  'superior_introduction_letter',
  'legal_rep_authorisation_letter',
  'handler_id_copy',
  'person_id_copy',
  'holder_introduction_letter',
  'authorisation_letter',
  'translation',
] as const;

export type MaterialKind = (typeof MATERIAL_KINDS)[number];

export const MATERIAL_LABELS: Readonly<Record<MaterialKind, { zh: string; en: string }>> = {
  establishment_document: {
    zh: '依法批准设立或者登记的证件、文书',
    en: 'Document of lawful establishment or registration',
  },
  superior_introduction_letter: {
    zh: '上级或者主管部门的介绍信',
    en: 'Introduction letter from the superior or competent authority',
  },
  legal_rep_authorisation_letter: {
    zh: '法定代表人、经营者或者主要负责人的委托授权书',
    en: 'Authorisation letter from the legal representative, operator or principal',
  },
  handler_id_copy: {
    zh: '经办人有效身份证件（原件核验、复印件留存）及联系方式',
    en: "Handler's valid ID (original checked, copy kept) and contact details",
  },
  person_id_copy: {
    zh: '个人名章本人有效身份证件',
    en: 'Valid ID of the person whose name seal is applied for',
  },
  holder_introduction_letter: {
    zh: '单位介绍信（个人名章）',
    en: "Holder's introduction letter (personal name seal)",
  },
  authorisation_letter: {
    zh: '委托授权书（个人名章）',
    en: 'Authorisation letter (personal name seal)',
  },
  translation: {
    zh: '经本单位或者机构确认的翻译文本',
    en: 'Translation confirmed by the holder',
  },
};

export const SEAL_TEXT_LANGUAGES = ['zh', 'foreign', 'minority'] as const;
/** 'zh': Chinese only; 'foreign': includes a foreign language; 'minority': includes a minority script. */
export type SealTextLanguage = (typeof SEAL_TEXT_LANGUAGES)[number];

export interface MaterialsInput {
  readonly holderKind: HolderKind;
  readonly sealKind: SealKind;
  readonly language: SealTextLanguage;
  /** Whether the holder has a superior or competent authority 上级或者主管部门. */
  readonly hasSuperior: boolean;
  /** A3: newly registered, registration data shared by the registration authority. */
  readonly preRegistered?: boolean;
  /** A4: a newly established state organ or people's organisation. */
  readonly newlyEstablishedOrgan?: boolean;
}

export interface RequiredMaterial {
  readonly kind: MaterialKind;
  readonly labelZh: string;
  readonly labelEn: string;
  /** The clause that requires it. */
  readonly clause: 'A2' | 'A4';
  /** A4: an officer must explicitly approve this material before production may start. */
  readonly requiresOfficerApproval: boolean;
}

export function isMaterialKind(value: unknown): value is MaterialKind {
  return typeof value === 'string' && (MATERIAL_KINDS as readonly string[]).includes(value);
}

export function isSealTextLanguage(value: unknown): value is SealTextLanguage {
  return typeof value === 'string' && (SEAL_TEXT_LANGUAGES as readonly string[]).includes(value);
}

export function materialLabel(kind: MaterialKind): { zh: string; en: string } {
  return MATERIAL_LABELS[kind];
}

function material(kind: MaterialKind, clause: 'A2' | 'A4' = 'A2', requiresOfficerApproval = false): RequiredMaterial {
  const l = MATERIAL_LABELS[kind];
  return { kind, labelZh: l.zh, labelEn: l.en, clause, requiresOfficerApproval };
}

/**
 * The materials an application must carry, in the regulation's order. Throws a DomainError (422) for an
 * impossible combination: A3 for a state organ or people's organisation (they follow national rules, A4), or
 * A4 for any other holder kind.
 */
export function requiredMaterials(input: MaterialsInput): RequiredMaterial[] {
  const isNationalRuleKind = NATIONAL_RULE_HOLDER_KINDS.includes(input.holderKind);
  const holder = HOLDER_KIND_LABELS[input.holderKind];
  if (!isSealTextLanguage(input.language)) {
    throw invalidField(FIELDS.language, `“${String(input.language)}”无效（应为zh、foreign或minority）`, `"${String(input.language)}" is not one of zh, foreign, minority`, {
      code: 'UNKNOWN_LANGUAGE',
    });
  }
  if (input.newlyEstablishedOrgan === true && !isNationalRuleKind) {
    throw ruleViolation(
      'NEW_ORGAN_KIND_MISMATCH',
      `只有新设国家机关、人民团体按照国家有关规定办理，${holder.zh}不适用`,
      `only a newly established state organ or people's organisation follows national rules; not ${withArticle(holder.en)}`,
      { field: FIELDS.newlyEstablishedOrgan, details: { holderKind: input.holderKind } },
    );
  }
  if (input.preRegistered === true) {
    if (isNationalRuleKind) {
      throw ruleViolation(
        'PRE_REGISTRATION_NOT_APPLICABLE',
        `${holder.zh}按照国家有关规定办理，不适用登记注册信息共享免交材料`,
        `${withArticle(holder.en)} follows national rules and cannot use the shared-registration exemption`,
        { field: FIELDS.preRegistered, details: { holderKind: input.holderKind } },
      );
    }
    return []; // A3
  }

  const a4 = input.newlyEstablishedOrgan === true;
  const out: RequiredMaterial[] = [
    a4 ? material('establishment_document', 'A4', true) : material('establishment_document'),
    material(input.hasSuperior ? 'superior_introduction_letter' : 'legal_rep_authorisation_letter'),
    material('handler_id_copy'),
  ];
  if (input.sealKind === 'personal_name') {
    out.push(material('person_id_copy'), material('holder_introduction_letter'), material('authorisation_letter'));
  }
  if (input.language !== 'zh') out.push(material('translation'));
  return out;
}

/** The required materials not yet submitted, in the required order. Extra submissions are ignored. */
export function missingMaterials(
  required: readonly RequiredMaterial[],
  submittedKinds: Iterable<MaterialKind | string>,
): RequiredMaterial[] {
  const submitted = new Set<string>(submittedKinds);
  return required.filter((m) => !submitted.has(m.kind));
}

export interface SharedRegistrationInput {
  /** Whether the registration authority shared the holder's registration data (the A3 exchange). */
  readonly shared: boolean;
  /** The registration date, YYYY-MM-DD (Beijing), or null when unknown. */
  readonly registrationDate: string | null;
  /** The day the application was made, YYYY-MM-DD (Beijing). */
  readonly appliedOn: string;
  /** How many days after registration a holder still counts as newly registered (registration.newlyRegisteredDays). */
  readonly windowDays: number;
  readonly sealKind: SealKind;
}

const DAY_MS = 86_400_000;
const dayNumber = (ymd: string) => Date.parse(`${ymd}T00:00:00Z`) / DAY_MS;

/**
 * A3 waives the materials only for a holder newly registered (新设单位在登记注册时): its data shared by the
 * registration authority, registered at most `windowDays` before the application (not after it), and only for
 * its own public seals — a personal-name seal still needs that person's documents (A2).
 */
export function sharedRegistrationWaivesMaterials(input: SharedRegistrationInput): boolean {
  if (!input.shared || input.registrationDate === null || input.sealKind === 'personal_name') return false;
  const age = dayNumber(input.appliedOn) - dayNumber(input.registrationDate);
  return Number.isFinite(age) && age >= 0 && age <= input.windowDays;
}
