// M5: a case's production data is a series of versions. Version 1 is written when the seal is produced
// (activities/applications.ts); a correction by the case's maker appends the next version with its reason
// and author, and — when `records.correctionNeedsOfficerApproval` is on — takes effect only once an officer
// of the case's district approves it: a task in the district's queue, decided through the Update of its
// own workflow (usecases/correction-approval.ts). Nothing is changed in place; every version stays readable.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { parseName } from '../domain/application-intake';
import { conflict, fieldRef, invalidField, requiredField } from '../domain/errors';
import { auditRead } from '../infra/audit/log';
import type { Db } from '../infra/db';
import type { Actor } from '../domain/actor';
import { forbidden, notFound } from '../domain/refusals';
import { assertCanSeeCase } from './applications';
import type { Deps } from './deps';
import { correctionWorkflowId } from '../workflows/correction-messages';
import { decideCorrectionThroughWorkflow, startCorrectionApproval } from './correction-approval';
import { productionRecordVersions, takesEffect } from './production-record-versions';
import { parseProductionData } from '../domain/production-data';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface CaseScope {
  id: string;
  maker_id: string;
  holder_id: string;
  district_code: string;
}

async function loadCase(db: Db | Knex.Transaction, caseId: string): Promise<CaseScope> {
  if (!UUID.test(caseId)) throw notFound('Case', '案件');
  const c = await db('cases').where({ id: caseId }).first('id', 'maker_id', 'holder_id', 'district_code');
  if (!c) throw notFound('Case', '案件');
  return c;
}

/** GET: every version, for whoever may see the case (P3, M6); the read is audited (operators are people). */
export async function listProductionRecords(deps: Pick<Deps, 'db'>, actor: Actor, caseId: string) {
  const c = await loadCase(deps.db, caseId);
  assertCanSeeCase(actor, c);
  await auditRead(deps.db, actor, { action: 'production_record.read', targetType: 'case', targetId: c.id, caseId: c.id }); // M6 P1
  const versions = await productionRecordVersions(deps.db, c.id);
  return { case_id: c.id, current_version: versions.find((v) => v.state === 'current')?.version ?? null, versions };
}

/** M2: the same schema as version 1 (domain/production-data.ts). */
const parseData = (value: unknown): Record<string, unknown> => ({ ...parseProductionData(value, new Date()) });

/** POST by the case's maker: the next version, with its reason and author. */
export async function correctProductionRecord(deps: Pick<Deps, 'db' | 'config' | 'temporal'>, actor: Actor, caseId: string, body: unknown) {
  const c = await loadCase(deps.db, caseId);
  if (actor.role !== 'maker' || actor.makerId !== c.maker_id) throw forbidden('Only the maker of this case may correct its production record', '只有本案件的制作单位可以更正制作信息');
  const b = (body ?? {}) as { production_data?: unknown; reason?: unknown; on_site_image_id?: unknown };
  // Every field is checked before anything is written, so a refused correction leaves the record as it was.
  const data = parseData(b.production_data);
  const reason = parseName(b.reason, fieldRef('reason', '更正原因', 'Reason for the correction'), 500);
  const imageField = fieldRef('on_site_image_id', '经办人现场影像', "Handler's on-site image");
  if (b.on_site_image_id !== undefined && (typeof b.on_site_image_id !== 'string' || !UUID.test(b.on_site_image_id))) throw invalidField(imageField, '格式不正确', 'is not a valid ID');
  const needsApproval = deps.config.records.correctionNeedsOfficerApproval;

  const outcome = await deps.db.transaction(async (trx) => {
    await trx('cases').where({ id: c.id }).forUpdate().first('id'); // one correction at a time per case
    const versions: Array<{ id: string; version: number; on_site_image_id: string; needs_approval: boolean; decision: string | null; created_at: Date }> = await trx('production_records as r')
      .leftJoin('production_record_decisions as d', 'd.record_id', 'r.id')
      .where('r.case_id', c.id)
      .orderBy('r.version')
      .select('r.id', 'r.version', 'r.on_site_image_id', 'r.needs_approval', 'd.decision', 'r.created_at');
    if (versions.length === 0) throw conflict('NO_PRODUCTION_RECORD', '本案件尚未录入制作信息，无可更正', 'This case has no production record yet; there is nothing to correct');
    const pending = versions.find((v) => v.needs_approval && !v.decision);
    if (pending) return { pending };
    let imageId = [...versions].reverse().find(takesEffect)!.on_site_image_id;
    if (typeof b.on_site_image_id === 'string') {
      const image = await trx('materials').where({ id: b.on_site_image_id, case_id: c.id, kind: 'on_site_image' }).first('id');
      if (!image) throw invalidField(imageField, '不是本案件上传的现场影像', 'is not an on-site image uploaded for this case');
      imageId = image.id;
    }
    const next = { id: randomUUID(), version: versions[versions.length - 1].version + 1, created_at: new Date() };
    await trx('production_records').insert({ id: next.id, case_id: c.id, version: next.version, data: JSON.stringify(data), on_site_image_id: imageId, reason, author_id: actor.userId, needs_approval: needsApproval, created_at: next.created_at });
    return { inserted: next };
  });
  // After the commit: the officer's task. Started again (idempotently) when the maker meets the pending one,
  // so a start lost to a crash between the commit and here still reaches the queue.
  const { pending, inserted } = outcome as { pending?: (typeof outcome)['pending']; inserted?: { id: string; version: number; created_at: Date } };
  const waiting = pending ?? (needsApproval ? inserted : undefined);
  if (waiting) await startCorrectionApproval(deps, { recordId: waiting.id, caseId: c.id, version: waiting.version, districtCode: c.district_code, createdAt: waiting.created_at });
  if (pending) throw conflict('CORRECTION_PENDING', `第 ${pending.version} 版更正正待民警审批`, `Correction version ${pending.version} is awaiting an officer's approval`, { version: pending.version });
  const version = inserted!.version;
  const versions = await productionRecordVersions(deps.db, c.id);
  return versions.find((v) => v.version === version)!;
}

/** POST by an officer of the case's district: approve or reject a correction awaiting approval, once (the task's Update). */
export async function decideProductionCorrection(deps: Pick<Deps, 'db' | 'config' | 'temporal'>, actor: Actor, caseId: string, versionParam: string, body: unknown) {
  const c = await loadCase(deps.db, caseId);
  if (actor.role !== 'officer' || actor.districtCode !== c.district_code) throw forbidden("Only an officer of the case's district may decide this correction", '只有本案件所属辖区的民警可以审批更正');
  const b = (body ?? {}) as { decision?: unknown; reason?: unknown };
  const decisionField = fieldRef('decision', '审批结论', 'Decision');
  if (b.decision === undefined || b.decision === null || b.decision === '') throw requiredField(decisionField);
  if (b.decision !== 'approve' && b.decision !== 'reject') throw invalidField(decisionField, '应为 approve（批准）或 reject（驳回）', 'must be approve or reject');
  const reasonField = fieldRef('reason', '审批意见', 'Reason');
  const reason = b.decision === 'reject' || (b.reason !== undefined && b.reason !== null && b.reason !== '') ? parseName(b.reason, reasonField, 500) : null;
  if (!/^[1-9]\d{0,8}$/.test(versionParam)) throw notFound('Version', '版本');
  const record = await deps.db('production_records as r')
    .leftJoin('production_record_decisions as d', 'd.record_id', 'r.id')
    .where({ 'r.case_id': c.id, 'r.version': Number(versionParam) })
    .first('r.id', 'r.version', 'r.needs_approval', 'r.created_at', 'd.decision');
  if (!record) throw notFound('Version', '版本');
  if (!record.needs_approval) throw conflict('NO_APPROVAL_NEEDED', '该版本无需审批', 'This version needs no approval');
  if (record.decision) throw conflict('ALREADY_DECIDED', '该更正已审批', 'This correction has already been decided', { decision: record.decision });
  const pending = { recordId: record.id, caseId: c.id, version: record.version, districtCode: c.district_code, createdAt: record.created_at };
  await startCorrectionApproval(deps, pending); // a no-op unless its start was lost
  await decideCorrectionThroughWorkflow(deps, actor, correctionWorkflowId(record.id, record.version), { decision: b.decision === 'approve' ? 'accept' : 'return', reason });
  const versions = await productionRecordVersions(deps.db, c.id);
  return versions.find((v) => v.version === Number(versionParam))!;
}

/** Corrections awaiting approval: an officer's district, or the whole city for supervisors. */
export async function pendingProductionCorrections(deps: Pick<Deps, 'db'>, actor: Actor) {
  if (actor.role !== 'officer' && actor.role !== 'supervisor') throw forbidden();
  const q = deps.db('production_records as r')
    .join('cases as c', 'c.id', 'r.case_id')
    .leftJoin('production_record_decisions as d', 'd.record_id', 'r.id')
    .leftJoin('tasks as t', 't.record_id', 'r.id')
    .where('r.needs_approval', true)
    .whereNull('d.record_id')
    .orderBy('r.created_at')
    .select('r.case_id', 'r.version', 'r.reason', 'r.author_id', 'r.created_at', 'c.district_code', 't.id as task_id', 't.due_at');
  if (actor.role === 'officer') q.where('c.district_code', actor.districtCode);
  const rows = await q;
  return rows.map((r) => ({ case_id: r.case_id, version: r.version, reason: r.reason, author_id: r.author_id, district_code: r.district_code, created_at: new Date(r.created_at).toISOString(), task_id: r.task_id ?? null, due_at: r.due_at ? new Date(r.due_at).toISOString() : null }));
}
