// M2: production data has a schema; each error names its field in Chinese and English.
import { parseProductionData } from '../../domain/production-data';
import { ValidationErrors } from '../../domain/errors';

const asOf = new Date('2026-12-04T02:00:00Z'); // 10:00 in Beijing
const fieldsOf = (value: unknown) => {
  try {
    parseProductionData(value, asOf);
  } catch (e) {
    const list = e instanceof ValidationErrors ? e.errors : [e as ValidationErrors];
    return list.map((x) => [x.field, x.messageZh]);
  }
  throw new Error('expected a refusal');
};

describe('production data (M2)', () => {
  it('M2: date, operator, medium and device are kept; the key algorithm is the platform’s', () => {
    expect(parseProductionData({ produced_on: '2026-12-04', operator: ' 钱七 ', medium: 'HSM', device: 'SoftHSM2 #1' }, asOf)).toEqual({ produced_on: '2026-12-04', operator: '钱七', medium: 'HSM', device: 'SoftHSM2 #1', key_algorithm: 'ECDSA-P256' });
  });

  it('M2: an empty object names every missing field; wrong values, platform-filled and unknown fields are refused by name', () => {
    expect(fieldsOf({})).toEqual([
      ['production_data.produced_on', '制作日期：必须填写'],
      ['production_data.operator', '制作人员：必须填写'],
      ['production_data.medium', '介质：必须填写'],
      ['production_data.device', '制作设备：必须填写'],
    ]);
    expect(fieldsOf({ produced_on: '2026-12-05', operator: '钱七', medium: 'floppy', device: 'x', key_algorithm: 'RSA-1024', certificate_serial: '01', colour: 'red' })).toEqual([
      ['production_data.produced_on', '制作日期：不能晚于今天'],
      ['production_data.medium', '介质：应为以下之一：HSM、USB、IC_CARD'],
      ['production_data.key_algorithm', expect.stringContaining('ECDSA-P256')],
      ['production_data.certificate_serial', 'certificate_serial：由平台在制作后自动记录，不能填写'],
      ['production_data.colour', 'colour：不是制作信息的字段'],
    ]);
    expect(fieldsOf({ produced_on: '2026-02-30', operator: '钱七', medium: 'HSM', device: 'x' })).toEqual([['production_data.produced_on', '制作日期：应为有效日期 YYYY-MM-DD']]);
    expect(fieldsOf([])).toEqual([['production_data', '制作信息：应为对象（键值）']]);
  });
});
