import {
  BEIJING_DISTRICTS,
  DISTRICT_CODES,
  deriveDistrict,
  districtInAddress,
  districtMismatches,
  districtOfDivisionCode,
  findDistrict,
  getDistrict,
  isDistrictCode,
  parseUscc,
} from '../../domain';
import { catchDomainError } from '../helpers/domain-errors';


describe('Beijing districts (GB/T 2260)', () => {
  it('lists exactly the 16 current districts with their GB/T 2260 codes', () => {
    expect(Object.fromEntries(BEIJING_DISTRICTS.map((d) => [d.code, d.nameZh]))).toEqual({
      '110101': '东城区',
      '110102': '西城区',
      '110105': '朝阳区',
      '110106': '丰台区',
      '110107': '石景山区',
      '110108': '海淀区',
      '110109': '门头沟区',
      '110111': '房山区',
      '110112': '通州区',
      '110113': '顺义区',
      '110114': '昌平区',
      '110115': '大兴区',
      '110116': '怀柔区',
      '110117': '平谷区',
      '110118': '密云区',
      '110119': '延庆区',
    });
    expect(DISTRICT_CODES).toHaveLength(16);
    expect(new Set(BEIJING_DISTRICTS.map((d) => d.slug)).size).toBe(16);
    expect(new Set(BEIJING_DISTRICTS.map((d) => d.nameEn)).size).toBe(16);
    for (const d of BEIJING_DISTRICTS) {
      expect(d.nameEn).toMatch(/^[A-Z][a-z]+ District$/);
      expect(d.nameEn.toLowerCase()).toBe(`${d.slug} district`);
    }
  });

  it('finds a district by code, slug, Chinese name (with or without 区 / 北京市) and English name', () => {
    for (const key of ['110108', 'haidian', '海淀区', '海淀', '北京市海淀区', 'Haidian District', 'HAIDIAN district', ' 110108 ']) {
      expect([key, findDistrict(key)?.code]).toEqual([key, '110108']);
    }
    expect(getDistrict('石景山').nameEn).toBe('Shijingshan District');
  });

  it('rejects an unknown district, naming the field in Chinese and English', () => {
    const e = catchDomainError(() => getDistrict('浦东新区'));
    expect(e.code).toBe('UNKNOWN_DISTRICT');
    expect(e.field).toBe('district');
    expect(e.httpStatus).toBe(400);
    expect(e.messageZh).toMatch(/^所属行政区：“浦东新区”不是北京市的区/);
    expect(e.messageEn).toMatch(/^District: "浦东新区" is not a Beijing district/);
  });

  it('rejects codes of former districts and counties (崇文 110103, 宣武 110104, 密云县 110228, 延庆县 110229) and the city code', () => {
    for (const code of ['110103', '110104', '110228', '110229', '110000', '110110']) {
      expect(catchDomainError(() => getDistrict(code)).code).toBe('UNKNOWN_DISTRICT');
      expect(isDistrictCode(code)).toBe(false);
    }
    expect(catchDomainError(() => getDistrict('')).code).toBe('REQUIRED_FIELD');
    expect(catchDomainError(() => getDistrict(110108)).code).toBe('UNKNOWN_DISTRICT');
  });

  it('isDistrictCode accepts codes only, not names', () => {
    expect(isDistrictCode('110119')).toBe(true);
    expect(isDistrictCode('延庆区')).toBe(false);
    expect(isDistrictCode('yanqing')).toBe(false);
  });

  it('maps the division code of a district-registered USCC to its district, and a city-level one to none', () => {
    expect(districtOfDivisionCode(parseUscc('91110108551385082Q').administrativeDivisionCode)?.slug).toBe('haidian');
    expect(districtOfDivisionCode(parseUscc('91110000802100433B').administrativeDivisionCode)).toBeUndefined();
  });
});

describe('P3: the case district against the registered address and the USCC', () => {
  it('P3: finds the district an address names (the first one) and none in an address without one', () => {
    expect(districtInAddress('北京市朝阳区光华路1号')?.code).toBe('110105');
    expect(districtInAddress('北京市海淀区中关村南大街5号（原朝阳区）')?.code).toBe('110108');
    expect(districtInAddress('北京市光华路1号')).toBeUndefined();
  });
  it('P3: flags an address or a district-level registration authority of another district, not the city-level one', () => {
    expect(districtMismatches('110105', '北京市朝阳区光华路1号', '110105')).toEqual([]);
    expect(districtMismatches('110105', '北京市朝阳区光华路1号', '110000')).toEqual([]);
    expect(districtMismatches('110105', '北京市海淀区中关村大街1号', '110108')).toEqual([
      { source: 'address', district_code: '110108' },
      { source: 'uscc', district_code: '110108' },
    ]);
    expect(districtMismatches('110105', null, '310101')).toEqual([]);
  });
});

describe('P3: the district derived from the holder\'s records, not the maker\'s choice', () => {
  it('P3: derives the district from the registered address, and keeps the maker\'s choice only when the address names none', () => {
    expect(deriveDistrict('110101', '北京市海淀区中关村大街1号')).toBe('110108');
    expect(deriveDistrict('110101', '北京市光华路1号')).toBe('110101');
    expect(deriveDistrict('110101', null)).toBe('110101');
  });
  it('P3: flags a maker-chosen district that differs from the case\'s, and not an agreeing or unknown one', () => {
    expect(districtMismatches('110108', '北京市海淀区中关村大街1号', '110108', '110105')).toEqual([{ source: 'maker', district_code: '110105' }]);
    expect(districtMismatches('110108', '北京市海淀区中关村大街1号', '110108', '110108')).toEqual([]);
    expect(districtMismatches('110108', '北京市海淀区中关村大街1号', '110000', '浦东新区')).toEqual([]);
  });
});
