import {
  ALLOWED_PERSONAL_SEAL_ROLES,
  ALLOWED_SEAL_KINDS,
  assertPersonalSealRoleAllowed,
  assertSealKindAllowed,
  BUSINESS_SEAL_KINDS,
  DomainError,
  HOLDER_KIND_LABELS,
  HOLDER_KINDS,
  type HolderKind,
  isLiveSealStatus,
  isSealKindAllowed,
  parseHolderKind,
  parsePersonalSealRole,
  parseSealKind,
  PERSONAL_SEAL_ROLE_LABELS,
  PERSONAL_SEAL_ROLES,
  PUBLIC_SEAL_KINDS,
  SEAL_KIND_LABELS,
  SEAL_KINDS,
  SEAL_STATUSES,
  type SealKind,
} from '../../domain';
import { catchDomainError } from '../helpers/domain-errors';


describe('holder kinds (S2)', () => {
  it('S2: has the seven holder kinds of the regulation with Chinese and English labels', () => {
    expect(Object.fromEntries(HOLDER_KINDS.map((k) => [k, HOLDER_KIND_LABELS[k].zh]))).toEqual({
      state_organ: '国家机关',
      peoples_organisation: '人民团体',
      social_organisation: '社会组织',
      enterprise: '企业单位',
      public_institution: '事业单位',
      individual_business: '个体工商户',
      other_organisation: '其他组织',
    });
    expect(HOLDER_KIND_LABELS.individual_business.en).toBe('Individual business');
  });

  it('S2: parses a holder kind and rejects an unknown one, naming the field', () => {
    expect(parseHolderKind('enterprise')).toBe('enterprise');
    const e = catchDomainError(() => parseHolderKind('company'));
    expect(e.code).toBe('UNKNOWN_HOLDER_KIND');
    expect(e.field).toBe('holderKind');
    expect(e.messageZh).toMatch(/^单位（机构）类型：“company”不是有效的单位类型/);
    expect(catchDomainError(() => parseHolderKind(undefined)).code).toBe('REQUIRED_FIELD');
  });
});

describe('seal kinds (S1)', () => {
  it('S1: has the nine seal kinds with their Chinese names', () => {
    expect(Object.fromEntries(SEAL_KINDS.map((k) => [k, SEAL_KIND_LABELS[k].zh]))).toEqual({
      legal_name: '法定名称章',
      internal_department: '内设机构章',
      branch: '分支机构章',
      business_contract: '合同专用章',
      business_finance: '财务专用章',
      business_invoice: '发票专用章',
      business_inspection: '审验专用章',
      business_customs: '报关专用章',
      personal_name: '个人名章',
    });
    for (const k of SEAL_KINDS) expect(SEAL_KIND_LABELS[k].en).toMatch(/seal$/);
  });

  it('S1: the five business-purpose kinds are the 专用章; every kind but the personal name seal is public', () => {
    expect(BUSINESS_SEAL_KINDS.map((k) => SEAL_KIND_LABELS[k].zh).every((l) => l.endsWith('专用章'))).toBe(true);
    expect(BUSINESS_SEAL_KINDS).toHaveLength(5);
    expect(PUBLIC_SEAL_KINDS).toHaveLength(8);
    expect(PUBLIC_SEAL_KINDS).not.toContain('personal_name');
  });

  it('S1: personal name seals belong to the five roles of the regulation', () => {
    expect(Object.fromEntries(PERSONAL_SEAL_ROLES.map((r) => [r, PERSONAL_SEAL_ROLE_LABELS[r].zh]))).toEqual({
      legal_representative: '法定代表人',
      operator: '经营者',
      principal: '主要负责人',
      finance_head: '财务负责人',
      authorised_representative: '授权代表人',
    });
  });

  it('S1: parses seal kinds and roles, rejecting unknown values', () => {
    expect(parseSealKind('business_customs')).toBe('business_customs');
    expect(catchDomainError(() => parseSealKind('business_tax')).code).toBe('UNKNOWN_SEAL_KIND');
    expect(catchDomainError(() => parseSealKind('business_tax')).messageZh).toMatch(/^印章类型：/);
    expect(parsePersonalSealRole('operator')).toBe('operator');
    expect(catchDomainError(() => parsePersonalSealRole('ceo')).field).toBe('personalSealRole');
  });
});

describe('which seal kinds each holder kind may have', () => {
  it('S1/S2: every holder kind may have a legal-name, contract, finance and personal name seal', () => {
    for (const h of HOLDER_KINDS) {
      for (const s of ['legal_name', 'business_contract', 'business_finance', 'personal_name'] as SealKind[]) {
        expect([h, s, isSealKindAllowed(h, s)]).toEqual([h, s, true]);
      }
    }
  });

  it('S1/S2: enterprises, social organisations, public institutions and other organisations may have every kind', () => {
    for (const h of ['enterprise', 'social_organisation', 'public_institution', 'other_organisation'] as HolderKind[]) {
      expect([...ALLOWED_SEAL_KINDS[h]].sort()).toEqual([...SEAL_KINDS].sort());
    }
  });

  it('S1/S2: an individual business has no internal-department, branch or inspection seal', () => {
    for (const s of ['internal_department', 'branch', 'business_inspection'] as SealKind[]) {
      const e = catchDomainError(() => assertSealKindAllowed('individual_business', s));
      expect(e.code).toBe('SEAL_KIND_NOT_ALLOWED');
      expect(e.httpStatus).toBe(422);
      expect(e.field).toBe('sealKind');
      expect(e.details).toEqual({ holderKind: 'individual_business', sealKind: s });
      expect(e.messageZh).toBe(`印章类型：个体工商户不能申请${SEAL_KIND_LABELS[s].zh}`);
    }
    expect(catchDomainError(() => assertSealKindAllowed('individual_business', 'internal_department')).messageEn).toBe(
      'Seal kind: an individual business may not have an internal-department seal',
    );
    expect(() => assertSealKindAllowed('individual_business', 'business_invoice')).not.toThrow();
    expect(() => assertSealKindAllowed('individual_business', 'business_customs')).not.toThrow();
  });

  it('S1/S2: state organs and people’s organisations have no branch, invoice or customs-declaration seal', () => {
    for (const h of ['state_organ', 'peoples_organisation'] as HolderKind[]) {
      for (const s of ['branch', 'business_invoice', 'business_customs'] as SealKind[]) {
        expect(() => assertSealKindAllowed(h, s)).toThrow(DomainError);
      }
      expect(() => assertSealKindAllowed(h, 'internal_department')).not.toThrow();
      expect(() => assertSealKindAllowed(h, 'business_inspection')).not.toThrow();
    }
    expect(catchDomainError(() => assertSealKindAllowed('state_organ', 'business_customs')).messageEn).toBe(
      'Seal kind: a state organ may not have a customs declaration seal',
    );
  });

  it('the matrix lists only known kinds, each once, for every holder kind', () => {
    expect(Object.keys(ALLOWED_SEAL_KINDS).sort()).toEqual([...HOLDER_KINDS].sort());
    for (const h of HOLDER_KINDS) {
      const kinds = ALLOWED_SEAL_KINDS[h];
      expect(new Set(kinds).size).toBe(kinds.length);
      for (const k of kinds) expect(SEAL_KINDS).toContain(k);
      const roles = ALLOWED_PERSONAL_SEAL_ROLES[h];
      expect(roles.length).toBeGreaterThan(0);
      for (const r of roles) expect(PERSONAL_SEAL_ROLES).toContain(r);
    }
  });

  it('S1: an individual business’s personal name seal is its operator’s, and only an individual business has an operator', () => {
    expect(ALLOWED_PERSONAL_SEAL_ROLES.individual_business).toEqual(['operator']);
    const e = catchDomainError(() => assertPersonalSealRoleAllowed('individual_business', 'legal_representative'));
    expect(e.code).toBe('PERSONAL_SEAL_ROLE_NOT_ALLOWED');
    expect(e.messageZh).toBe('个人名章人员身份：个体工商户不能申请法定代表人个人名章（可申请：经营者）');
    for (const h of HOLDER_KINDS.filter((k) => k !== 'individual_business')) {
      expect(() => assertPersonalSealRoleAllowed(h, 'operator')).toThrow(DomainError);
      for (const r of ['legal_representative', 'principal', 'finance_head', 'authorised_representative'] as const) {
        expect(() => assertPersonalSealRoleAllowed(h, r)).not.toThrow();
      }
    }
  });
});

describe('seal statuses', () => {
  it('every status except cancelled is live (what the A1 rule counts)', () => {
    expect(SEAL_STATUSES.filter(isLiveSealStatus)).toEqual(['in_production', 'ready', 'active', 'suspended', 'stopped']);
  });
});
