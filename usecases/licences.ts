// Makers' licences (M1) and the shared registration feed of holders (A3).
import { randomUUID } from 'node:crypto';
import type { Db } from '../infra/db';
import { parseHolderForm } from '../domain/application-intake';
import { fieldRef, invalidField, requiredField, ruleViolation } from '../domain/errors';
import { shanghaiDate } from '../domain/calendar';
import { licenceChangedSignal } from '../workflows/application-messages';
import type { Actor } from '../domain/actor';
import { forbidden, notFound } from '../domain/refusals';
import type { Deps } from './deps';
import { applicationWorkflowId, UUID } from './applications';

// ---------- shared registration (A3) and licences (M1) ----------

export async function assertMakerLicensed(db: Db, makerId: string) {
  const m = await db('makers').where({ id: makerId }).first();
  // The day in Beijing, as the workflow's checkMakerLicence counts it (not the UTC date).
  const today = shanghaiDate(new Date());
  const from = shanghaiDate(new Date(m.licence_valid_from));
  const until = shanghaiDate(new Date(m.licence_valid_until));
  if (m.licence_status !== 'active' || today < from || today > until) {
    throw ruleViolation('MAKER_LICENCE_INVALID', `制作单位许可证无效（${m.licence_no}，状态 ${m.licence_status}，有效期 ${from} 至 ${until}），不能受理`, `Maker licence ${m.licence_no} is not valid (status ${m.licence_status}, valid ${from} to ${until}); no application can be submitted`, {
      field: fieldRef('maker.licence', '制作单位许可证', 'Maker licence'),
    });
  }
}

export async function registerFromMarketFeed(deps: Pick<Deps, 'db'>, actor: Actor, body: unknown) {
  if (actor.role !== 'admin') throw forbidden('Only the registration data exchange may register holders', '只有登记信息共享接口可以登记单位');
  const b = (body ?? {}) as Record<string, unknown>;
  const form = parseHolderForm(b);
  const dateField = fieldRef('registration_date', '登记日期', 'Registration date');
  if (typeof b.registration_date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(b.registration_date)) throw requiredField(dateField);
  const row = { uscc: form.uscc, name: form.name, kind: form.kind, district_code: form.districtCode, address: form.address, legal_representative: form.legalRepresentative, registration_date: b.registration_date, source: 'market_regulation', pre_verified: true };
  await deps.db('holders').insert({ id: randomUUID(), ...row }).onConflict('uscc').merge(row);
  return deps.db('holders').where({ uscc: form.uscc }).first('id', 'uscc', 'name', 'kind', 'district_code', 'pre_verified', 'source');
}

export async function updateMakerLicence(deps: Deps, actor: Actor, makerId: string, body: unknown) {
  if (actor.role !== 'admin') throw forbidden('Only an administrator manages licences', '只有管理员可以管理许可证');
  if (!UUID.test(makerId) || !(await deps.db('makers').where({ id: makerId }).first('id'))) throw notFound('Maker', '制作单位');
  const b = (body ?? {}) as Record<string, unknown>;
  const patch: Record<string, unknown> = {};
  if (b.status !== undefined) {
    if (!['active', 'suspended', 'revoked'].includes(String(b.status))) throw invalidField(fieldRef('status', '许可证状态', 'Licence status'), '应为 active、suspended 或 revoked', 'must be active, suspended or revoked');
    patch.licence_status = b.status;
  }
  for (const [key, col, zh, en] of [['valid_from', 'licence_valid_from', '有效期起', 'Valid from'], ['valid_until', 'licence_valid_until', '有效期止', 'Valid until']] as const) {
    if (b[key] === undefined) continue;
    if (typeof b[key] !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(b[key] as string)) throw invalidField(fieldRef(key, zh, en), '应为 YYYY-MM-DD', 'must be YYYY-MM-DD');
    patch[col] = b[key];
  }
  if (Object.keys(patch).length > 0) await deps.db('makers').where({ id: makerId }).update(patch);
  // Running cases re-check the licence (M1): paused ones resume when it is valid again.
  const open = await deps.db('cases').where({ maker_id: makerId, kind: 'application' }).whereNotIn('status', ['collected', 'rejected', 'cancelled_unclaimed']).pluck('id');
  await Promise.all(open.map((id: string) => deps.temporal.workflow.getHandle(applicationWorkflowId(id)).signal(licenceChangedSignal).catch(() => undefined)));
  return deps.db('makers').where({ id: makerId }).first('id', 'name', 'licence_no', 'licence_status', 'licence_valid_from', 'licence_valid_until');
}
