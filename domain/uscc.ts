/**
 * Unified social credit code 统一社会信用代码 (GB 32100-2015), the identifier of every holder (S2).
 *
 * 18 characters:
 *   [0]      registration department code 登记管理部门代码 (1 机构编制, 5 民政, 9 工商/市场监管, …)
 *   [1]      organisation category code 机构类别代码 (meaning depends on the department)
 *   [2..7]   administrative division code 登记管理机关行政区划码 (GB/T 2260, 6 digits; 100000 = national)
 *   [8..16]  organisation code 主体标识码（组织机构代码）(9 characters, GB 11714)
 *   [17]     check character 校验码
 * Charset: 0-9 and the capital letters except I, O, S, V, Z (31 characters, values 0..30).
 * Check: c = 31 − (Σ value(i)·weight(i) mod 31), with 31 → 0; weights 3^i mod 31.
 *
 * The organisation code's own GB 11714 check character is not verified here: codes issued since 2015 use
 * letters in that part and the USCC check character already protects the whole code.
 */
import { FIELDS, type FieldRef, invalidField, requiredField } from './errors';

export const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
export const USCC_WEIGHTS: readonly number[] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** GB 32100-2015 appendix: registration departments and the organisation categories each defines. */
export const USCC_REGISTRATION_DEPARTMENTS: Readonly<
  Record<string, { zh: string; en: string; categories: Readonly<Record<string, { zh: string; en: string }>> }>
> = {
  '1': {
    zh: '机构编制',
    en: 'Institutional establishment',
    categories: {
      '1': { zh: '机关', en: 'State organ' },
      '2': { zh: '事业单位', en: 'Public institution' },
      '3': { zh: '中央编办直接管理机构编制的群众团体', en: "Mass organisation staffed under the central establishment office" },
      '9': { zh: '其他', en: 'Other' },
    },
  },
  '2': {
    zh: '外交',
    en: 'Foreign affairs',
    categories: { '1': { zh: '外国常驻新闻机构', en: 'Resident foreign news agency' }, '9': { zh: '其他', en: 'Other' } },
  },
  '3': {
    zh: '司法行政',
    en: 'Judicial administration',
    categories: {
      '1': { zh: '律师执业机构', en: 'Law firm' },
      '2': { zh: '公证处', en: 'Notary office' },
      '3': { zh: '基层法律服务所', en: 'Grassroots legal service office' },
      '4': { zh: '司法鉴定机构', en: 'Forensic appraisal institution' },
      '5': { zh: '仲裁委员会', en: 'Arbitration commission' },
      '9': { zh: '其他', en: 'Other' },
    },
  },
  '4': {
    zh: '文化',
    en: 'Culture',
    categories: { '1': { zh: '外国在华文化中心', en: 'Foreign cultural centre in China' }, '9': { zh: '其他', en: 'Other' } },
  },
  '5': {
    zh: '民政',
    en: 'Civil affairs',
    categories: {
      '1': { zh: '社会团体', en: 'Social group' },
      '2': { zh: '民办非企业单位', en: 'Private non-enterprise unit' },
      '3': { zh: '基金会', en: 'Foundation' },
      '9': { zh: '其他', en: 'Other' },
    },
  },
  '6': {
    zh: '旅游',
    en: 'Tourism',
    categories: {
      '1': { zh: '外国旅游部门常驻代表机构', en: 'Resident office of a foreign tourism authority' },
      '2': { zh: '港澳台地区旅游部门常驻内地（大陆）代表机构', en: 'Resident office of a Hong Kong, Macao or Taiwan tourism authority' },
      '9': { zh: '其他', en: 'Other' },
    },
  },
  '7': {
    zh: '宗教',
    en: 'Religious affairs',
    categories: {
      '1': { zh: '宗教活动场所', en: 'Place of religious activity' },
      '2': { zh: '宗教院校', en: 'Religious school' },
      '9': { zh: '其他', en: 'Other' },
    },
  },
  '8': {
    zh: '工会',
    en: 'Trade unions',
    categories: { '1': { zh: '基层工会', en: 'Grassroots trade union' }, '9': { zh: '其他', en: 'Other' } },
  },
  '9': {
    zh: '工商',
    en: 'Market regulation (industry and commerce)',
    categories: {
      '1': { zh: '企业', en: 'Enterprise' },
      '2': { zh: '个体工商户', en: 'Individual business' },
      '3': { zh: '农民专业合作社', en: "Farmers' specialised cooperative" },
    },
  },
  A: {
    zh: '中央军委改革和编制办公室',
    en: 'Central Military Commission reform and establishment office',
    categories: { '1': { zh: '军队事业单位', en: 'Military public institution' }, '9': { zh: '其他', en: 'Other' } },
  },
  N: {
    zh: '农业',
    en: 'Agriculture',
    categories: {
      '1': { zh: '组级集体经济组织', en: 'Group-level collective economic organisation' },
      '2': { zh: '村级集体经济组织', en: 'Village-level collective economic organisation' },
      '3': { zh: '乡镇级集体经济组织', en: 'Township-level collective economic organisation' },
      '9': { zh: '其他', en: 'Other' },
    },
  },
  Y: {
    zh: '其他',
    en: 'Other',
    categories: {},
  },
};

export interface UsccParts {
  /** The normalised 18-character code. */
  readonly code: string;
  readonly registrationDepartmentCode: string;
  readonly registrationDepartmentZh: string;
  readonly registrationDepartmentEn: string;
  readonly organisationCategoryCode: string;
  /** Undefined when the standard defines no label for this department/category pair. */
  readonly organisationCategoryZh: string | undefined;
  readonly organisationCategoryEn: string | undefined;
  /** 6-digit GB/T 2260 code of the registering authority's division (e.g. 110108 海淀区, 110000 北京市). */
  readonly administrativeDivisionCode: string;
  /** 9-character organisation code (主体标识码). */
  readonly organisationCode: string;
  readonly checkCharacter: string;
  /** Registered by a Beijing authority (division code 11xxxx). */
  readonly registeredInBeijing: boolean;
}

const FULL_WIDTH_START = 0xff01;
const FULL_WIDTH_END = 0xff5e;

/**
 * Normalise a typed or pasted code: full-width ASCII (ＡＢＣ１２３) → half-width, every kind of whitespace
 * (including the ideographic space U+3000) removed, letters upper-cased.
 */
export function normaliseCodeInput(input: string): string {
  let out = '';
  for (const ch of input) {
    const cp = ch.codePointAt(0)!;
    if (cp >= FULL_WIDTH_START && cp <= FULL_WIDTH_END) out += String.fromCharCode(cp - 0xfee0);
    else if (!/\s/u.test(ch)) out += ch;
  }
  return out.toUpperCase();
}

/** The check character for the first 17 characters (which must already be in the charset). */
export function computeUsccCheckCharacter(first17: string): string {
  if (first17.length !== 17) throw new RangeError('computeUsccCheckCharacter needs exactly 17 characters');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_CHARSET.indexOf(first17[i]!);
    if (v < 0) throw new RangeError(`character ${first17[i]} is not in the USCC charset`);
    sum += v * USCC_WEIGHTS[i]!;
  }
  return USCC_CHARSET[(31 - (sum % 31)) % 31]!;
}

export interface ParseOptions {
  /** The field to name in errors; defaults to {@link FIELDS.uscc}. */
  field?: FieldRef;
}

/**
 * Parse and verify a unified social credit code. Case and whitespace are normalised. Throws a DomainError
 * (HTTP 400) naming the field for a missing, wrong-length, bad-character, unknown-department, bad-division
 * or wrong-check-character code.
 */
export function parseUscc(input: unknown, opts: ParseOptions = {}): UsccParts {
  const field = opts.field ?? FIELDS.uscc;
  if (input === undefined || input === null || (typeof input === 'string' && input.trim() === '')) {
    throw requiredField(field);
  }
  if (typeof input !== 'string') {
    throw invalidField(field, '必须是文本', 'must be a string', { code: 'USCC_FORMAT' });
  }
  const code = normaliseCodeInput(input);
  if (code.length !== 18) {
    throw invalidField(field, `应为18位，实际为${code.length}位`, `must have 18 characters, not ${code.length}`, {
      code: 'USCC_LENGTH',
      details: { length: code.length },
    });
  }
  for (let i = 0; i < 18; i++) {
    const ch = code[i]!;
    if (!USCC_CHARSET.includes(ch)) {
      const hint = 'IOSVZ'.includes(ch)
        ? { zh: '（不使用字母I、O、S、V、Z）', en: ' (the letters I, O, S, V and Z are not used)' }
        : { zh: '', en: '' };
      throw invalidField(
        field,
        `第${i + 1}位字符“${ch}”不合法${hint.zh}`,
        `character ${i + 1} "${ch}" is not allowed${hint.en}`,
        { code: 'USCC_CHARSET', details: { position: i + 1, character: ch } },
      );
    }
  }
  const dept = USCC_REGISTRATION_DEPARTMENTS[code[0]!];
  if (dept === undefined) {
    throw invalidField(
      field,
      `第1位登记管理部门代码“${code[0]}”不存在`,
      `registration department code "${code[0]}" (character 1) does not exist`,
      { code: 'USCC_DEPARTMENT', details: { registrationDepartmentCode: code[0] } },
    );
  }
  const division = code.slice(2, 8);
  if (!/^[1-9]\d{5}$/.test(division)) {
    throw invalidField(
      field,
      `第3至8位行政区划码“${division}”应为6位数字`,
      `characters 3-8 (administrative division code "${division}") must be 6 digits`,
      { code: 'USCC_DIVISION', details: { administrativeDivisionCode: division } },
    );
  }
  const expected = computeUsccCheckCharacter(code.slice(0, 17));
  if (expected !== code[17]) {
    throw invalidField(
      field,
      `校验码错误（第18位应为“${expected}”，实际为“${code[17]}”），请核对是否输入有误`,
      `check character is wrong (character 18 should be "${expected}", not "${code[17]}"); please check for typing errors`,
      { code: 'USCC_CHECK', details: { expected, actual: code[17] } },
    );
  }
  const category = dept.categories[code[1]!];
  return {
    code,
    registrationDepartmentCode: code[0]!,
    registrationDepartmentZh: dept.zh,
    registrationDepartmentEn: dept.en,
    organisationCategoryCode: code[1]!,
    organisationCategoryZh: category?.zh,
    organisationCategoryEn: category?.en,
    administrativeDivisionCode: division,
    organisationCode: code.slice(8, 17),
    checkCharacter: code[17]!,
    registeredInBeijing: division.startsWith('11'),
  };
}
