/**
 * The production data of a seal (M2): what the maker records when the seal is made, field by field. The maker
 * gives the date, the operator, the medium and the device; the platform knows the rest itself (the key
 * algorithm of its HSM keys, the certificate serial and the imprint hash, which exist only once the seal is
 * produced) and adds them when the record is read, so they cannot be mistyped.
 */
import { fieldRef, invalidField, requiredField, ValidationCollector, type FieldRef } from './errors';

export const PRODUCTION_MEDIA = ['HSM', 'USB', 'IC_CARD'] as const;
export type ProductionMedium = (typeof PRODUCTION_MEDIA)[number];
/** The algorithm of every seal key the platform generates (infra/hsm: ECDSA on P-256). */
export const PLATFORM_KEY_ALGORITHM = 'ECDSA-P256';

export interface ProductionData {
  produced_on: string;
  operator: string;
  medium: ProductionMedium;
  device: string;
  key_algorithm: string;
  note?: string;
}

const F = {
  data: fieldRef('production_data', '制作信息', 'Production data'),
  producedOn: fieldRef('production_data.produced_on', '制作日期', 'Production date'),
  operator: fieldRef('production_data.operator', '制作人员', 'Operator'),
  medium: fieldRef('production_data.medium', '介质', 'Medium'),
  device: fieldRef('production_data.device', '制作设备', 'Device'),
  keyAlgorithm: fieldRef('production_data.key_algorithm', '密钥算法', 'Key algorithm'),
  note: fieldRef('production_data.note', '备注', 'Note'),
} as const;
const FILLED_BY_PLATFORM = ['certificate_serial', 'imprint_sha256'];
const KNOWN = new Set(['produced_on', 'operator', 'medium', 'device', 'key_algorithm', 'note']);
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function text(v: unknown, field: FieldRef, max: number): string {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) throw requiredField(field);
  if (typeof v !== 'string') throw invalidField(field, '应为文字', 'must be text');
  const s = v.normalize('NFC').trim();
  if (CONTROL.test(s)) throw invalidField(field, '含有控制字符', 'contains control characters');
  if ([...s].length > max) throw invalidField(field, `不能超过${max}个字符`, `must be at most ${max} characters`);
  return s;
}

/** The UTC+8 calendar date of an instant (the domain never reads the clock: the caller passes `asOf`). */
const beijingDate = (at: Date) => new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);

function date(v: unknown, field: FieldRef, asOf: Date): string {
  if (v === undefined || v === null || v === '') throw requiredField(field);
  const m = typeof v === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(v) : null;
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || !d || d.toISOString().slice(0, 10) !== v) throw invalidField(field, '应为有效日期 YYYY-MM-DD', 'must be a real date YYYY-MM-DD');
  if ((v as string) > beijingDate(asOf)) throw invalidField(field, '不能晚于今天', 'cannot be after today');
  return v as string;
}

/** Check the maker's production data; every field error at once, each naming `production_data.<field>`. */
export function parseProductionData(value: unknown, asOf: Date): ProductionData {
  if (value === undefined || value === null) throw requiredField(F.data);
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidField(F.data, '应为对象（键值）', 'must be an object (keys and values)');
  const b = value as Record<string, unknown>;
  const v = new ValidationCollector();
  const producedOn = v.check(() => date(b.produced_on, F.producedOn, asOf));
  const operator = v.check(() => text(b.operator, F.operator, 50));
  const medium = v.check(() => {
    if (b.medium === undefined || b.medium === null || b.medium === '') throw requiredField(F.medium);
    if (!(PRODUCTION_MEDIA as readonly unknown[]).includes(b.medium)) throw invalidField(F.medium, `应为以下之一：${PRODUCTION_MEDIA.join('、')}`, `must be one of ${PRODUCTION_MEDIA.join(', ')}`);
    return b.medium as ProductionMedium;
  });
  const device = v.check(() => text(b.device, F.device, 100));
  v.check(() => {
    if (b.key_algorithm !== undefined && b.key_algorithm !== PLATFORM_KEY_ALGORITHM) {
      throw invalidField(F.keyAlgorithm, `本平台的印章密钥均为 ${PLATFORM_KEY_ALGORITHM}，可不填`, `every seal key of this platform is ${PLATFORM_KEY_ALGORITHM}; it may be left out`);
    }
  });
  const note = b.note === undefined || b.note === null || b.note === '' ? undefined : v.check(() => text(b.note, F.note, 500));
  for (const k of Object.keys(b)) {
    const field = fieldRef(`production_data.${k}`, k, k);
    if (FILLED_BY_PLATFORM.includes(k)) v.add(invalidField(field, '由平台在制作后自动记录，不能填写', 'is recorded by the platform once the seal is produced; leave it out', { code: 'FILLED_BY_PLATFORM' }));
    else if (!KNOWN.has(k)) v.add(invalidField(field, '不是制作信息的字段', 'is not a field of the production data', { code: 'UNKNOWN_FIELD' }));
  }
  v.throwIfAny();
  return { produced_on: producedOn!, operator: operator!, medium: medium!, device: device!, key_algorithm: PLATFORM_KEY_ALGORITHM, ...(note ? { note } : {}) };
}
