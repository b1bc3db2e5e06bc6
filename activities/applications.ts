// Database activities of the application workflow. Each one is idempotent: keyed by case, seal, task or
// step, so a retry after a crash changes nothing that the first attempt already wrote.
import { randomUUID } from 'node:crypto';
import type { Db } from '../infra/db';
import { appendAudit } from '../infra/audit/log';
import { missingMaterials, requiredMaterials, sharedRegistrationWaivesMaterials, type SealTextLanguage } from '../domain/materials';
import { replacementReasonOf, replacementRenewsMaterials } from '../domain/replacement';
import type { HolderKind } from '../domain/holders';
import type { SealKind } from '../domain/seals';
import { shanghaiDate } from '../domain/calendar';

/** Who decided a task, from where (the decision's audit entry is written when the task closes). */
export interface DecisionAudit {
  username: string;
  role: string;
  districtCode: string | null;
  clientAddress: string | null;
  requestId: string | null;
}

/** The audit entry's actor: the officer or supervisor who decided, as the request that carried it named them. */
export const auditedActor = (userId: string, a: DecisionAudit) => ({ userId, username: a.username, role: a.role, districtCode: a.districtCode, makerId: null, holderId: null });

export interface ProjectCaseInput {
  caseId: string;
  status: string;
  reason: { zh: string; en: string } | null;
  missingMaterials: string[];
  event: { key: string; type: string; data: Record<string, unknown>; actorId: string | null; at: string };
}

/** `newlyRegisteredDays`: the A3 window (registration.newlyRegisteredDays in temporal.yaml). */
export function createApplicationDbActivities(db: Db, registration: { newlyRegisteredDays: number } = { newlyRegisteredDays: 30 }) {
  return {
    /**
     * Writes the case's status and appends one timeline event (once per event key). One statement, so one
     * round trip: the status changes only together with a newly inserted event, as in a transaction.
     */
    async projectCase(p: ProjectCaseInput): Promise<void> {
      await db.raw(
        `with event as (
           insert into case_events (case_id, event_key, type, data, actor_id, at) values (?, ?, ?, ?::jsonb, ?, ?)
           on conflict (case_id, event_key) do nothing
           returning id)
         update cases set status = ?, status_reason = ?, missing_materials = ?::jsonb, updated_at = ?
         where id = ? and exists (select 1 from event)`,
        [
          p.caseId, p.event.key, p.event.type, JSON.stringify(p.event.data), p.event.actorId, p.event.at,
          p.status, p.reason ? `${p.reason.zh} / ${p.reason.en}` : null, JSON.stringify(p.missingMaterials), p.event.at,
          p.caseId,
        ],
      );
    },

    /** Workflow first: whether the web has written the case's rows (workflows/case-record.ts). */
    async caseRecordExists({ caseId }: { caseId: string }): Promise<boolean> {
      return (await db('cases').where({ id: caseId }).first('id')) !== undefined;
    },

    /** A2/A3: which required materials are still missing, from what is stored for the case. */
    async checkMaterials({ caseId }: { caseId: string }): Promise<{ missing: string[] }> {
      const row = await db('cases as c')
        .join('holders as h', 'h.id', 'c.holder_id')
        .join('seals as s', 's.case_id', 'c.id')
        .where('c.id', caseId)
        .first(
          'h.kind as holder_kind', 'h.has_superior', 'h.pre_verified', 's.kind as seal_kind', 'c.language', 'c.newly_established_organ',
          // M11: a replacement's request (named by the new case's first event) says why the seal is replaced.
          db.raw(`(select rc.request_reason from case_events e join cases rc on rc.id = (e.data->>'requestCase')::uuid
                   where s.replaces_seal_id is not null and e.case_id = c.id and e.event_key = '0:submitted') as replacement_request_reason`),
          db.raw('s.replaces_seal_id is not null as is_replacement'),
          db.raw(`to_char(h.registration_date, 'YYYY-MM-DD') as registration_date`),
          db.raw(`to_char(c.created_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD') as applied_on`),
          db.raw('array(select m.kind from materials m where m.case_id = c.id) as submitted'), // same round trip
        );
      const sealKind = row.seal_kind as SealKind;
      const required = requiredMaterials({
        holderKind: row.holder_kind as HolderKind,
        sealKind,
        language: row.language as SealTextLanguage,
        hasSuperior: row.has_superior,
        // A3: only newly registered holders, for their public seals; a replacement after a change brings new materials (M11).
        preRegistered: sharedRegistrationWaivesMaterials({
          shared: row.pre_verified && !(row.is_replacement && replacementRenewsMaterials(replacementReasonOf(row.replacement_request_reason))),
          registrationDate: row.registration_date,
          appliedOn: row.applied_on,
          windowDays: registration.newlyRegisteredDays,
          sealKind,
        }),
        newlyEstablishedOrgan: row.newly_established_organ,
      });
      return { missing: missingMaterials(required, row.submitted as string[]).map((m) => m.kind) };
    },

    /** M1: a licence is valid when active and the day (Beijing time) lies within its validity. */
    async checkMakerLicence({ makerId, at }: { makerId: string; at: string }) {
      const m = await db('makers').where({ id: makerId }).first();
      const today = shanghaiDate(new Date(at));
      const from = shanghaiDate(new Date(m.licence_valid_from));
      const until = shanghaiDate(new Date(m.licence_valid_until));
      if (m.licence_status !== 'active') {
        const zh = m.licence_status === 'suspended' ? '已暂停' : '已吊销';
        return { valid: false, reasonZh: `制作单位许可证${zh}（${m.licence_no}）`, reasonEn: `maker licence ${m.licence_no} is ${m.licence_status}` };
      }
      if (today < from || today > until) {
        return { valid: false, reasonZh: `制作单位许可证不在有效期内（${from} 至 ${until}）`, reasonEn: `maker licence ${m.licence_no} is not valid on ${today} (valid ${from} to ${until})` };
      }
      return { valid: true, reasonZh: '', reasonEn: '' };
    },

    async openTask(t: { taskId: string; caseId: string; kind: string; districtCode: string; dueAt: string | null }): Promise<{ taskId: string }> {
      await db('tasks')
        .insert({ id: t.taskId, case_id: t.caseId, kind: t.kind, district_code: t.districtCode, status: 'open', due_at: t.dueAt })
        .onConflict('id')
        .ignore();
      return { taskId: t.taskId };
    },

    /**
     * Closes the task with its decision and, in the same transaction, writes the decision's audit entry (M6):
     * the trail records the decision that took effect, once (a retry finds the task closed and writes nothing).
     */
    async closeTask(t: { taskId: string; caseId?: string; decision: string; reason: string | null; decidedBy: string; at: string; audit?: DecisionAudit | null }) {
      await db.transaction(async (trx) => {
        const closed = await trx('tasks')
          .where({ id: t.taskId, status: 'open' })
          .update({ status: 'done', decision: t.decision, reason: t.reason, decided_by: t.decidedBy, decided_at: t.at, assignee_id: t.decidedBy })
          .returning(['kind', 'case_id']);
        if (closed.length === 0 || !t.audit) return;
        await appendAudit(trx, {
          action: 'task.decide',
          outcome: 'ok',
          actor: auditedActor(t.decidedBy, t.audit),
          targetType: 'task',
          targetId: t.taskId,
          caseId: closed[0].case_id,
          clientAddress: t.audit.clientAddress,
          requestId: t.audit.requestId,
          details: { decision: t.decision, task_kind: closed[0].kind },
          at: new Date(t.at),
        });
      });
    },

    /**
     * P3: the case and its open tasks move to another district, with the supervisor's audit entry, in one
     * transaction (a retry finds the case moved and writes nothing).
     */
    async moveCaseDistrict(m: { caseId: string; fromDistrict: string; toDistrict: string; reason: string; supervisorId: string; audit: DecisionAudit; at: string }): Promise<{ fromDistrict: string }> {
      return db.transaction(async (trx) => {
        const row = await trx('cases').where({ id: m.caseId }).forUpdate().first('district_code');
        if (!row) throw new Error(`case ${m.caseId} not found`);
        if (row.district_code === m.toDistrict) return { fromDistrict: m.fromDistrict }; // a retry: moved already
        await trx('cases').where({ id: m.caseId }).update({ district_code: m.toDistrict });
        // A production-data correction is decided by its own workflow, which keeps the district it started in.
        await trx('tasks').where({ case_id: m.caseId, status: 'open' }).whereNot({ kind: 'production_correction' }).update({ district_code: m.toDistrict });
        await appendAudit(trx, {
          action: 'case.move_district',
          outcome: 'ok',
          actor: auditedActor(m.supervisorId, m.audit),
          targetType: 'case',
          targetId: m.caseId,
          caseId: m.caseId,
          clientAddress: m.audit.clientAddress,
          requestId: m.audit.requestId,
          details: { from_district: row.district_code, to_district: m.toDistrict, reason: m.reason },
          at: new Date(m.at),
        });
        return { fromDistrict: row.district_code as string };
      });
    },

    /** M2 M5: version 1 of the production record; corrections append versions (usecases/production-records.ts). */
    async recordProductionData(p: { caseId: string; productionData: Record<string, unknown>; onSiteImageMaterialId: string; authorId?: string }) {
      // An attempt scheduled by workflow code from before M5 carries no author: the case's maker recorded it.
      const author = p.authorId ?? db.raw('(select created_by from cases where id = ?)', [p.caseId]);
      await db('production_records')
        .insert({ id: randomUUID(), case_id: p.caseId, version: 1, data: JSON.stringify(p.productionData), on_site_image_id: p.onSiteImageMaterialId, author_id: author })
        .onConflict(['case_id', 'version'])
        .ignore();
    },

    /**
     * S3/M2: the seal code is the district code and a 7-digit sequence of that district; assigned once.
     * One statement: the seal's row lock orders retries, and a seal that has its code takes no number.
     */
    async assignSealCode({ sealId }: { sealId: string }): Promise<string> {
      const { rows } = await db.raw(
        `with seal as (
           select s.id, s.seal_code, c.district_code from seals s join cases c on c.id = s.case_id where s.id = ? for update of s),
         next as (
           insert into seal_code_sequences (district_code, last_value) select district_code, 1 from seal where seal_code is null
           on conflict (district_code) do update set last_value = seal_code_sequences.last_value + 1
           returning district_code || lpad(last_value::text, 7, '0') as code),
         assigned as (
           update seals set seal_code = (select code from next) where id = (select id from seal) and exists (select 1 from next)
           returning seal_code)
         select coalesce((select seal_code from assigned), (select seal_code from seal)) as seal_code`,
        [sealId],
      );
      return rows[0].seal_code as string;
    },

    async markProduced({ sealId, at }: { sealId: string; at: string }) {
      await db('seals').where({ id: sealId }).whereNull('produced_at').update({ produced_at: at });
    },

    async openFilingDeadline(f: { caseId: string; kind: string; startedAt: string; dueAt: string }) {
      await db.raw(
        `insert into filing_deadlines (case_id, kind, district_code, maker_id, started_at, due_at)
         select id, ?, district_code, maker_id, ?, ? from cases where id = ?
         on conflict (case_id, kind) do nothing`,
        [f.kind, f.startedAt, f.dueAt, f.caseId],
      );
    },

    /** M3: the filing is overdue from this moment; supervisors see it until it is filed. */
    async markFilingOverdue(f: { caseId: string; kind: string; at: string }) {
      await db('filing_deadlines').where({ case_id: f.caseId, kind: f.kind }).whereNull('overdue_at').update({ overdue_at: f.at });
    },

    async recordFiling(f: { caseId: string; kind: string; round: number; data: Record<string, unknown>; late: boolean; taskId: string; submittedBy: string | null; at: string }) {
      return db.transaction(async (trx) => {
        await trx('filings')
          .insert({ id: randomUUID(), case_id: f.caseId, kind: f.kind, round: f.round, data: JSON.stringify(f.data), late: f.late, task_id: f.taskId, submitted_by: f.submittedBy, submitted_at: f.at })
          .onConflict(['case_id', 'kind', 'round'])
          .ignore();
        await trx('filing_deadlines').where({ case_id: f.caseId, kind: f.kind }).whereNull('first_filed_at').update({ first_filed_at: f.at });
        const row = await trx('filings').where({ case_id: f.caseId, kind: f.kind, round: f.round }).first('id');
        return { filingId: row.id as string };
      });
    },

    async decideFiling(f: { caseId: string; kind: string; round: number; accepted: boolean; reason: string | null; at: string }) {
      await db.transaction(async (trx) => {
        // M5: the filing itself is a record; the decision is appended beside it, once.
        const filing = await trx('filings').where({ case_id: f.caseId, kind: f.kind, round: f.round }).first('id');
        await trx('filing_decisions')
          .insert({ filing_id: filing.id, decision: f.accepted ? 'accepted' : 'returned', reason: f.accepted ? null : f.reason, decided_at: f.at })
          .onConflict('filing_id')
          .ignore();
        if (f.accepted) await trx('filing_deadlines').where({ case_id: f.caseId, kind: f.kind }).whereNull('accepted_at').update({ accepted_at: f.at });
      });
    },

    async markReady(r: { sealId: string; at: string; unclaimedDueAt: string }) {
      await db('seals').where({ id: r.sealId }).whereNull('ready_at').update({ status: 'ready', ready_at: r.at, unclaimed_due_at: r.unclaimedDueAt });
    },

    async recordCollection(r: { sealId: string; collectorName: string; at: string }) {
      await db('seals').where({ id: r.sealId, status: 'ready' }).update({ status: 'active', collected_at: r.at });
    },

    /** M9: 登记造册. */
    async enterUnclaimedLedger(u: { sealId: string; caseId: string; districtCode: string; readyAt: string; dueAt: string; at: string }) {
      await db('unclaimed_ledger')
        .insert({ seal_id: u.sealId, case_id: u.caseId, district_code: u.districtCode, ready_at: u.readyAt, due_at: u.dueAt, entered_at: u.at })
        .onConflict('seal_id')
        .ignore();
    },

    /**
     * The seal ends; its certificate is revoked with the reason and time recorded (the certificate is kept).
     * M13: a certificate already revoked (stopped) or on hold keeps that first time and reason, so signatures
     * made between the two changes do not look valid.
     */
    async markSealCancelled(c: { sealId: string; reason: string; at: string; revocationReason?: string }) {
      await db('seals')
        .where({ id: c.sealId })
        .whereNull('cancelled_at')
        .update({
          status: 'cancelled',
          cancelled_at: c.at,
          cancellation_reason: c.reason,
          revoked_at: db.raw('case when certificate_der is null then null else coalesce(revoked_at, hold_since, ?::timestamptz) end', [c.at]),
          revocation_reason: db.raw('case when certificate_der is null then null else coalesce(revocation_reason, ?) end', [c.revocationReason ?? 'cessationOfOperation']),
        });
    },
  };
}

export type ApplicationDbActivityFns = ReturnType<typeof createApplicationDbActivities>;
