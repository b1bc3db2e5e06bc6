import {
  HOLDER_KINDS,
  type HolderKind,
  MATERIAL_KINDS,
  MATERIAL_LABELS,
  type MaterialsInput,
  missingMaterials,
  requiredMaterials,
  SEAL_KINDS,
  type SealTextLanguage,
} from '../../domain';
import { catchDomainError } from '../helpers/domain-errors';


const base: MaterialsInput = {
  holderKind: 'enterprise',
  sealKind: 'legal_name',
  language: 'zh',
  hasSuperior: false,
};
const kinds = (input: Partial<MaterialsInput>) => requiredMaterials({ ...base, ...input }).map((m) => m.kind);

describe('A2: materials of an existing holder', () => {
  it('A2: a holder without a superior brings its establishment document, the legal representative’s authorisation and the handler’s ID', () => {
    expect(kinds({})).toEqual(['establishment_document', 'legal_rep_authorisation_letter', 'handler_id_copy']);
  });

  it('A2: a holder with a superior brings the superior’s introduction letter instead of the authorisation', () => {
    expect(kinds({ holderKind: 'public_institution', hasSuperior: true })).toEqual([
      'establishment_document',
      'superior_introduction_letter',
      'handler_id_copy',
    ]);
  });

  it('A2: an individual business (no superior) brings the operator’s authorisation letter', () => {
    const m = requiredMaterials({ ...base, holderKind: 'individual_business' });
    expect(m.map((x) => x.kind)).toContain('legal_rep_authorisation_letter');
    expect(m.find((x) => x.kind === 'legal_rep_authorisation_letter')?.labelZh).toContain('经营者');
  });

  it('A2: a personal name seal also needs that person’s ID, the holder’s introduction letter and an authorisation letter', () => {
    expect(kinds({ sealKind: 'personal_name' })).toEqual([
      'establishment_document',
      'legal_rep_authorisation_letter',
      'handler_id_copy',
      'person_id_copy',
      'holder_introduction_letter',
      'authorisation_letter',
    ]);
  });

  it.each<SealTextLanguage>(['foreign', 'minority'])('A2: seal text in a %s language needs a translation confirmed by the holder', (language) => {
    const m = requiredMaterials({ ...base, language });
    expect(m.map((x) => x.kind)).toEqual(['establishment_document', 'legal_rep_authorisation_letter', 'handler_id_copy', 'translation']);
    expect(m[3]!.labelZh).toBe('经本单位或者机构确认的翻译文本');
  });

  it('A2: Chinese-only text needs no translation', () => {
    expect(kinds({ language: 'zh', sealKind: 'business_contract' })).not.toContain('translation');
  });

  it('A2: every combination includes the establishment document and the handler’s ID, and exactly one of letter/authorisation', () => {
    for (const holderKind of HOLDER_KINDS) {
      for (const sealKind of SEAL_KINDS) {
        for (const hasSuperior of [true, false]) {
          const k = kinds({ holderKind, sealKind, hasSuperior });
          expect(k).toContain('establishment_document');
          expect(k).toContain('handler_id_copy');
          expect(k.filter((x) => x === 'superior_introduction_letter' || x === 'legal_rep_authorisation_letter')).toEqual([
            hasSuperior ? 'superior_introduction_letter' : 'legal_rep_authorisation_letter',
          ]);
          expect(new Set(k).size).toBe(k.length);
        }
      }
    }
  });

  it('A2: each required material says which clause requires it and, outside A4, needs no officer approval', () => {
    for (const m of requiredMaterials({ ...base, sealKind: 'personal_name', language: 'foreign' })) {
      expect(m.clause).toBe('A2');
      expect(m.requiresOfficerApproval).toBe(false);
      expect(m.labelZh).toBe(MATERIAL_LABELS[m.kind].zh);
      expect(m.labelEn).toBe(MATERIAL_LABELS[m.kind].en);
    }
  });

  it('every material kind has a Chinese and an English label', () => {
    for (const k of MATERIAL_KINDS) {
      expect(MATERIAL_LABELS[k].zh).toMatch(/[\u4e00-\u9fff]/);
      expect(MATERIAL_LABELS[k].en).toMatch(/^[A-Z]/);
    }
  });

  it('rejects an unknown text language, naming the field', () => {
    const e = catchDomainError(() => requiredMaterials({ ...base, language: 'latin' as SealTextLanguage }));
    expect(e.field).toBe('language');
    expect(e.code).toBe('UNKNOWN_LANGUAGE');
  });
});

describe('A2: missing materials', () => {
  const required = requiredMaterials({ ...base, sealKind: 'personal_name' });

  it('A2: lists what is still missing, in the required order, ignoring extra submissions', () => {
    expect(missingMaterials(required, ['handler_id_copy', 'establishment_document', 'something_else']).map((m) => m.kind)).toEqual([
      'legal_rep_authorisation_letter',
      'person_id_copy',
      'holder_introduction_letter',
      'authorisation_letter',
    ]);
    expect(missingMaterials(required, new Set(required.map((m) => m.kind)))).toEqual([]);
  });
});

describe('A3: newly registered holders (shared registration data)', () => {
  it.each<HolderKind>(['enterprise', 'individual_business', 'social_organisation', 'public_institution', 'other_organisation'])(
    'A3: a newly registered %s needs no materials, whatever the seal and language',
    (holderKind) => {
      for (const sealKind of SEAL_KINDS) {
        for (const language of ['zh', 'foreign', 'minority'] as const) {
          expect(requiredMaterials({ holderKind, sealKind, language, hasSuperior: true, preRegistered: true })).toEqual([]);
        }
      }
    },
  );

  it.each<HolderKind>(['state_organ', 'peoples_organisation'])('A3/A4: a %s cannot use the shared-registration exemption', (holderKind) => {
    const e = catchDomainError(() => requiredMaterials({ ...base, holderKind, preRegistered: true }));
    expect(e.code).toBe('PRE_REGISTRATION_NOT_APPLICABLE');
    expect(e.field).toBe('preRegistered');
    expect(e.httpStatus).toBe(422);
  });
});

describe('A4: newly established state organs and people’s organisations', () => {
  it.each<HolderKind>(['state_organ', 'peoples_organisation'])(
    'A4: a newly established %s needs an officer’s explicit approval of its establishment document',
    (holderKind) => {
      const m = requiredMaterials({ ...base, holderKind, hasSuperior: true, newlyEstablishedOrgan: true });
      expect(m.map((x) => x.kind)).toEqual(['establishment_document', 'superior_introduction_letter', 'handler_id_copy']);
      expect(m[0]).toMatchObject({ kind: 'establishment_document', clause: 'A4', requiresOfficerApproval: true });
      expect(m.slice(1).every((x) => !x.requiresOfficerApproval)).toBe(true);
    },
  );

  it('A4: an existing organ’s application needs no officer approval', () => {
    expect(requiredMaterials({ ...base, holderKind: 'state_organ', hasSuperior: true }).some((m) => m.requiresOfficerApproval)).toBe(false);
  });

  it('A4: only state organs and people’s organisations can be “newly established organs”', () => {
    const e = catchDomainError(() => requiredMaterials({ ...base, holderKind: 'enterprise', newlyEstablishedOrgan: true }));
    expect(e.code).toBe('NEW_ORGAN_KIND_MISMATCH');
    expect(e.field).toBe('newlyEstablishedOrgan');
    expect(e.messageEn).toContain('not an enterprise');
  });
});
