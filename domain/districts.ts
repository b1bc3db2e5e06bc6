/**
 * The 16 districts of Beijing with their GB/T 2260 codes. Territorial management (P3): a case belongs to the
 * public-security district of the holder's registered address. Codes of former districts and counties —
 * 110103 崇文区 and 110104 宣武区 (merged into 东城区/西城区 in 2010), 110228 密云县 and 110229 延庆县 (now
 * 110118/110119, since 2015) — are not accepted, nor is the city-level 110000.
 */
import { FIELDS, type FieldRef, invalidField, requiredField } from './errors';

export type DistrictCode =
  | '110101'
  | '110102'
  | '110105'
  | '110106'
  | '110107'
  | '110108'
  | '110109'
  | '110111'
  | '110112'
  | '110113'
  | '110114'
  | '110115'
  | '110116'
  | '110117'
  | '110118'
  | '110119';

export interface District {
  readonly code: DistrictCode;
  /** Pinyin slug, stable, for URLs and configuration. */
  readonly slug: string;
  readonly nameZh: string;
  readonly nameEn: string;
}

export const BEIJING_DISTRICTS: readonly District[] = Object.freeze([
  { code: '110101', slug: 'dongcheng', nameZh: '东城区', nameEn: 'Dongcheng District' },
  { code: '110102', slug: 'xicheng', nameZh: '西城区', nameEn: 'Xicheng District' },
  { code: '110105', slug: 'chaoyang', nameZh: '朝阳区', nameEn: 'Chaoyang District' },
  { code: '110106', slug: 'fengtai', nameZh: '丰台区', nameEn: 'Fengtai District' },
  { code: '110107', slug: 'shijingshan', nameZh: '石景山区', nameEn: 'Shijingshan District' },
  { code: '110108', slug: 'haidian', nameZh: '海淀区', nameEn: 'Haidian District' },
  { code: '110109', slug: 'mentougou', nameZh: '门头沟区', nameEn: 'Mentougou District' },
  { code: '110111', slug: 'fangshan', nameZh: '房山区', nameEn: 'Fangshan District' },
  { code: '110112', slug: 'tongzhou', nameZh: '通州区', nameEn: 'Tongzhou District' },
  { code: '110113', slug: 'shunyi', nameZh: '顺义区', nameEn: 'Shunyi District' },
  { code: '110114', slug: 'changping', nameZh: '昌平区', nameEn: 'Changping District' },
  { code: '110115', slug: 'daxing', nameZh: '大兴区', nameEn: 'Daxing District' },
  { code: '110116', slug: 'huairou', nameZh: '怀柔区', nameEn: 'Huairou District' },
  { code: '110117', slug: 'pinggu', nameZh: '平谷区', nameEn: 'Pinggu District' },
  { code: '110118', slug: 'miyun', nameZh: '密云区', nameEn: 'Miyun District' },
  { code: '110119', slug: 'yanqing', nameZh: '延庆区', nameEn: 'Yanqing District' },
] as const satisfies readonly District[]);

export const DISTRICT_CODES: readonly DistrictCode[] = BEIJING_DISTRICTS.map((d) => d.code);

const BY_KEY = new Map<string, District>();
for (const d of BEIJING_DISTRICTS) {
  BY_KEY.set(d.code, d);
  BY_KEY.set(d.slug, d);
  BY_KEY.set(d.nameZh, d);
  BY_KEY.set(d.nameZh.slice(0, -1), d); // 海淀
  BY_KEY.set(d.nameEn.toLowerCase(), d);
  BY_KEY.set(`北京市${d.nameZh}`, d);
}

export function isDistrictCode(value: unknown): value is DistrictCode {
  return typeof value === 'string' && BY_KEY.get(value)?.code === value;
}

/**
 * Find a district by code ('110108'), slug ('haidian'), Chinese name ('海淀区', '海淀', '北京市海淀区') or
 * English name ('Haidian District', any case). Undefined when nothing matches.
 */
export function findDistrict(key: string): District | undefined {
  const k = key.trim();
  return BY_KEY.get(k) ?? BY_KEY.get(k.toLowerCase());
}

/** Like {@link findDistrict} but throws a DomainError (HTTP 400) naming the field for an unknown district. */
export function getDistrict(key: unknown, field: FieldRef = FIELDS.district): District {
  if (key === undefined || key === null || (typeof key === 'string' && key.trim() === '')) {
    throw requiredField(field);
  }
  const found = typeof key === 'string' ? findDistrict(key) : undefined;
  if (found === undefined) {
    const shown = String(key);
    throw invalidField(
      field,
      `“${shown}”不是北京市的区（应为16个区之一，如110108海淀区）`,
      `"${shown}" is not a Beijing district (expected one of the 16 districts, e.g. 110108 Haidian District)`,
      { code: 'UNKNOWN_DISTRICT', details: { value: shown } },
    );
  }
  return found;
}

/** The district of a 6-digit division code, e.g. from a resident ID or USCC; undefined outside the 16. */
export function districtOfDivisionCode(divisionCode: string): District | undefined {
  return isDistrictCode(divisionCode) ? BY_KEY.get(divisionCode) : undefined;
}

export function isKnownDistrict(key: string): boolean {
  return findDistrict(key) !== undefined;
}

/** P3: the Beijing district an address names (its first 区 name), or undefined when it names none. */
export function districtInAddress(address: string | null | undefined): District | undefined {
  if (!address) return undefined;
  let found: { d: District; at: number } | undefined;
  for (const d of BEIJING_DISTRICTS) {
    const at = address.indexOf(d.nameZh);
    if (at >= 0 && (!found || at < found.at)) found = { d, at };
  }
  return found?.d;
}

/** Where a case's district disagrees with what the holder's records say (flagged to the officer, P3). */
export interface DistrictMismatch {
  /**
   * 'address': the registered address names another district; 'uscc': the USCC's registration authority is
   * another district's; 'maker': the maker chose another district than the one derived (see {@link deriveDistrict}).
   */
  source: 'address' | 'uscc' | 'maker';
  district_code: DistrictCode;
}

/** The district of a USCC's district-level registration authority (characters 3–8); none for the city's 110000. */
export function usccAuthorityDistrict(usccDivisionCode: string | null | undefined): District | undefined {
  return usccDivisionCode ? districtOfDivisionCode(usccDivisionCode) : undefined;
}

/**
 * P3: the district a new holder belongs to, derived from its records rather than taken from the maker: the
 * district its registered address names; the maker's choice only when the address names none. The USCC's
 * registration authority is checked against it (a flag, {@link districtMismatches}), not used to place it: a
 * holder may move after registering.
 */
export function deriveDistrict(makerChoice: DistrictCode, address: string | null | undefined): DistrictCode {
  return districtInAddress(address)?.code ?? makerChoice;
}

/**
 * P3: the case's district against the district the registered address names and, where the USCC carries a
 * district-level registration authority (not 110000, the city), that authority's district; and, when given,
 * against the district the maker chose on the form.
 */
export function districtMismatches(districtCode: string, address: string | null | undefined, usccDivisionCode: string | null | undefined, makerChoice?: string): DistrictMismatch[] {
  const out: DistrictMismatch[] = [];
  const named = districtInAddress(address);
  if (named && named.code !== districtCode) out.push({ source: 'address', district_code: named.code });
  const authority = usccAuthorityDistrict(usccDivisionCode);
  if (authority && authority.code !== districtCode) out.push({ source: 'uscc', district_code: authority.code });
  if (makerChoice !== undefined && isDistrictCode(makerChoice) && makerChoice !== districtCode) out.push({ source: 'maker', district_code: makerChoice });
  return out;
}
