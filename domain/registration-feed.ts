// One row of the market-regulation authority's batch (A3 exchange): a newly registered holder as JSON, the same
// fields as the holder part of an application plus its registration date. A row is accepted or refused on its
// own, each refusal naming the fields at fault in Chinese and English.
import { parseHolderSection } from './application-intake';
import { DomainError, fieldRef, invalidField, requiredField, ValidationCollector } from './errors';
import { HOLDER_KIND_LABELS, NATIONAL_RULE_HOLDER_KINDS } from './holders';
import type { ApplicationForm } from './application-intake';

export const REGISTRATION_DATE_FIELD = fieldRef('registration_date', '登记日期', 'Registration date');

export interface RegistrationRow {
  holder: ApplicationForm['holder'];
  registrationDate: string;
}

export interface RowRefusal {
  field: string | null;
  code: string;
  messageZh: string;
  messageEn: string;
}

export type ParsedRow = { ok: true; row: RegistrationRow } | { ok: false; refusals: RowRefusal[] };

// The holder's fields are named as in an application (holder.uscc); a row carries them at its top level.
const refusal = (e: DomainError): RowRefusal => ({ field: e.field?.replace(/^holder\./, '') ?? null, code: e.code, messageZh: e.messageZh, messageEn: e.messageEn });

/** `today`: YYYY-MM-DD in Beijing; a registration date after it is refused. */
export function parseRegistrationRow(line: string, today: string): ParsedRow {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, refusals: [{ field: null, code: 'MALFORMED_JSON', messageZh: '该行不是有效的 JSON', messageEn: 'The line is not valid JSON' }] };
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, refusals: [{ field: null, code: 'MALFORMED_JSON', messageZh: '该行应为 JSON 对象', messageEn: 'The line must be a JSON object' }] };
  }
  const b = json as Record<string, unknown>;
  const v = new ValidationCollector();
  const holder = parseHolderSection(b, v);
  const date = b.registration_date;
  if (date === undefined || date === null || date === '') v.add(requiredField(REGISTRATION_DATE_FIELD));
  else if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
    v.add(invalidField(REGISTRATION_DATE_FIELD, '应为 YYYY-MM-DD 格式的日期', 'must be a date as YYYY-MM-DD'));
  } else if (date > today) {
    v.add(invalidField(REGISTRATION_DATE_FIELD, `不能晚于今天（${today}）`, `cannot be after today (${today})`));
  }
  if (holder.kind && NATIONAL_RULE_HOLDER_KINDS.includes(holder.kind)) {
    const label = HOLDER_KIND_LABELS[holder.kind];
    v.add(invalidField(fieldRef('kind', '单位类型', 'Holder kind'), `${label.zh}按照国家有关规定办理，不经登记信息共享`, `${label.en} follows national rules, not the shared registration data`));
  }
  if (v.hasErrors) return { ok: false, refusals: v.errors.map(refusal) };
  return { ok: true, row: { holder: holder as ApplicationForm['holder'], registrationDate: date as string } };
}
