// Database and store activities of the retention workflows (M7 archives, M8 premises video). Each one is
// idempotent: keyed by segment, hold, seal or task, so a retry changes nothing the first attempt wrote.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../infra/db';
import { loadConfig, type Config } from '../infra/config';
import { addIsoDuration, shanghaiDate, shanghaiEndOfDay } from '../domain/calendar';
import { sealEndedSignal, type HoldRole, type LegalHold, type PurgeBasis, type SealEnd } from '../workflows/retention-messages';
import type { BlobStore } from '../infra/blobs';
import { retentionBlobStore } from './retention-store';

/**
 * Personal data in a seal's archive, erased by an approved disposal (M7). Columns that do not exist (yet, or
 * any more) are skipped; the migration's erasure guard covers the same list.
 */
export const PERSONAL_DATA: ReadonlyArray<{ table: string; columns: readonly string[]; of: 'cases' | 'seal' | 'keepers' }> = [
  // P1: the ID numbers are stored encrypted with a keyed hash beside them; the hash goes with them.
  { table: 'cases', columns: ['handler_name', 'handler_id_number', 'handler_phone', 'legal_rep_id_number', 'handler_id_number_hmac', 'legal_rep_id_number_hmac', 'legal_rep_name', 'legal_rep_phone'], of: 'cases' },
  { table: 'seals', columns: ['person_id_number', 'person_id_number_hmac'], of: 'seal' },
  { table: 'seal_keepers', columns: ['id_number', 'id_number_hmac'], of: 'keepers' },
];

const iso = (v: Date | string) => new Date(v).toISOString();

/** The application case of the seal and every lifecycle case about it (suspend, stop, cancel, reset, …). */
export async function sealCaseIds(db: Db, sealId: string): Promise<string[]> {
  const seal = await db('seals').where({ id: sealId }).first('case_id');
  if (!seal) return [];
  const others: string[] = await db('cases').where({ subject_seal_id: sealId }).pluck('id');
  return [seal.case_id as string, ...others.filter((id) => id !== seal.case_id)];
}

async function existingColumns(db: Db, table: string, columns: readonly string[]): Promise<string[]> {
  const rows: Array<{ column_name: string }> = await db('information_schema.columns')
    .where({ table_schema: db.raw('current_schema()'), table_name: table })
    .whereIn('column_name', [...columns])
    .select('column_name');
  const present = new Set(rows.map((r) => r.column_name));
  return columns.filter((c) => present.has(c));
}

/** `blobs`: the store to delete from (default: the configured one, local disk or S3, as the web process uses). */
export function createRetentionDbActivities(db: Db, opts: { blobs?: BlobStore; archiveRetention?: string } = {}) {
  let config: Config | undefined;
  const cfg = () => (config ??= loadConfig());
  let blobStore: BlobStore | undefined = opts.blobs;
  const store = () => (blobStore ??= retentionBlobStore(cfg()));
  const archivePolicy = () => opts.archiveRetention ?? cfg().durations.archiveRetention;

  return {
    // ---------- M8: premises video ----------

    /** Fixes the retention date once (a restarted run gets the first one back) and returns the holds already on. */
    async startVideoRetention({ segmentId, retainUntil }: { segmentId: string; retainUntil: string }) {
      await db('video_segments').where({ id: segmentId }).whereNull('retain_until').update({ retain_until: retainUntil });
      const row = await db('video_segments').where({ id: segmentId }).first('retain_until', 'status', 'purged_at', 'purge_basis', 'purge_ordered_by');
      if (!row) throw ApplicationFailure.nonRetryable(`video segment ${segmentId} does not exist`, 'NotFound');
      const holds = await db('video_legal_holds').where({ segment_id: segmentId }).whereNull('lifted_at').orderBy('placed_at');
      return {
        retainUntil: iso(row.retain_until),
        holds: holds.map((h): LegalHold => ({ holdId: h.id, placedBy: h.placed_by, role: h.placed_role as HoldRole, reason: h.reason, placedAt: iso(h.placed_at) })),
        purged: row.status === 'purged' ? { at: iso(row.purged_at), basis: row.purge_basis as PurgeBasis, orderedBy: (row.purge_ordered_by as string | null) ?? null } : null,
      };
    },

    async recordVideoLegalHold(h: { segmentId: string; holdId: string; placedBy: string; role: HoldRole; reason: string; at: string }) {
      await db('video_legal_holds')
        .insert({ id: h.holdId, segment_id: h.segmentId, placed_by: h.placedBy, placed_role: h.role, reason: h.reason, placed_at: h.at })
        .onConflict('id')
        .ignore();
    },

    async recordVideoLegalHoldLift(l: { segmentId: string; holdId: string; liftedBy: string; role: HoldRole; reason: string; at: string }) {
      await db('video_legal_holds')
        .where({ id: l.holdId, segment_id: l.segmentId })
        .whereNull('lifted_at')
        .update({ lifted_by: l.liftedBy, lifted_role: l.role, lift_reason: l.reason, lifted_at: l.at });
    },

    /**
     * The purge: the row becomes the segment's tombstone (hash, dates, basis, who ordered it) and the bytes
     * leave the store, unless the same content is still needed by something else (content-addressed store).
     */
    async purgeVideoSegment(p: { segmentId: string; basis: PurgeBasis; orderedBy: string | null; at: string }) {
      return db.transaction(async (trx) => {
        const row = await trx('video_segments').where({ id: p.segmentId }).forUpdate().first('sha256', 'blob_sha256', 'status');
        // Encrypted segments (blob_sha256) own their ciphertext alone; one stored in clear before may share its
        // bytes with another segment or a material (content-addressed store).
        const sha: string = row.blob_sha256 ?? row.sha256;
        // Serialised with an upload of the same clear bytes of old (usecases/retention-video.ts), and the bytes
        // deleted before the lock is let go.
        await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`blob:${sha}`]);
        if (row.status !== 'purged') {
          await trx('video_segments').where({ id: p.segmentId }).update({ status: 'purged', purged_at: p.at, purge_basis: p.basis, purge_ordered_by: p.orderedBy });
        }
        const otherSegment = row.blob_sha256 ? null : await trx('video_segments').where({ sha256: sha, status: 'retained' }).whereNull('blob_sha256').first('id');
        const material = row.blob_sha256 ? null : await trx('materials').where({ blob_sha256: sha }).first('id');
        const erase = !otherSegment && !material;
        if (erase) {
          await trx('blobs').where({ sha256: sha }).whereNull('erased_at').update({ erased_at: p.at });
          await store().delete(sha); // idempotent: a retry after a failed commit deletes nothing twice
        }
        return { bytesDeleted: erase };
      });
    },

    // ---------- M7: seal archives ----------

    /**
     * Where a seal ends (its workflow, or the application workflow for an unclaimed seal): signal-with-start
     * of the archive's own workflow, on the caller's task queue. It is not a child, so nothing that happens
     * to the seal's or the application's workflow later (continue-as-new, termination) reaches the archive;
     * a later end (cancelled after stopped) is a signal to the running archive, or after a disposal starts
     * a new run for the later records.
     */
    async startArchiveRetention({ sealId, end }: { sealId: string; end: SealEnd }) {
      const ctx = Context.current();
      await ctx.client.workflow.signalWithStart('archiveRetentionWorkflow', {
        workflowId: `archive:${sealId}`,
        taskQueue: ctx.info.taskQueue,
        args: [{ sealId, end }],
        signal: sealEndedSignal,
        signalArgs: [end],
      });
    },

    /**
     * The date before which nothing may dispose of the seal's archive: the end of the Shanghai calendar day
     * `archiveRetention` (P5Y) after the latest of the seal's ends, the latest record in its archive (a
     * cancellation filed after the end) and the last review that kept it. Recorded; never shortened.
     */
    async archiveRetentionDue({ sealId, ends, reviewedAt }: { sealId: string; ends: SealEnd[]; reviewedAt: string | null }) {
      const policy = archivePolicy();
      const latestEnd = [...ends].sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0]!;
      const caseIds = await sealCaseIds(db, sealId);
      const latest = async (table: string, column: string, where: (q: any) => any) => {
        const row = await where(db(table)).max({ v: column }).first();
        return row?.v ? Date.parse(iso(row.v)) : 0;
      };
      const latestRecord = Math.max(
        await latest('case_events', 'at', (q) => q.whereIn('case_id', caseIds)),
        await latest('filings', 'submitted_at', (q) => q.whereIn('case_id', caseIds)),
        await latest('tasks', 'decided_at', (q) => q.whereIn('case_id', caseIds)),
        await latest('materials', 'created_at', (q) => q.whereIn('case_id', caseIds)),
        await latest('documents', 'created_at', (q) => q.where('seal_id', sealId)),
      );
      const base = new Date(Math.max(Date.parse(latestEnd.at), latestRecord, reviewedAt ? Date.parse(reviewedAt) : 0));
      const due = shanghaiEndOfDay(shanghaiDate(addIsoDuration(base, policy)));

      return db.transaction(async (trx) => {
        const row = await trx('archive_retention').where({ seal_id: sealId }).forUpdate().first();
        if (!row) {
          await trx('archive_retention').insert({ seal_id: sealId, end_kind: latestEnd.kind, ended_at: latestEnd.at, policy, retain_until: due, status: 'retained' });
          return { retainUntil: due.toISOString(), disposed: false };
        }
        const laterEnd = Date.parse(latestEnd.at) > new Date(row.ended_at).getTime();
        if (row.status === 'disposed' && !laterEnd) return { retainUntil: iso(row.retain_until), disposed: true };
        const retainUntil = new Date(Math.max(due.getTime(), new Date(row.retain_until).getTime()));
        await trx('archive_retention')
          .where({ seal_id: sealId })
          .update({
            ...(laterEnd ? { end_kind: latestEnd.kind, ended_at: latestEnd.at } : {}),
            ...(row.status === 'disposed' ? { disposal_approved_by: null, disposal_approved_at: null, disposed_at: null } : {}),
            status: 'retained',
            policy,
            retain_until: retainUntil,
            updated_at: trx.fn.now(),
          });
        return { retainUntil: retainUntil.toISOString(), disposed: false };
      });
    },

    async openArchiveDisposalTask(t: { taskId: string; sealId: string; retainUntil: string; at: string }) {
      const seal = await db('seals as s').join('cases as c', 'c.id', 's.case_id').where('s.id', t.sealId).first('c.district_code');
      await db.transaction(async (trx) => {
        await trx('archive_disposal_tasks')
          .insert({ id: t.taskId, seal_id: t.sealId, district_code: seal.district_code, status: 'open', retain_until: t.retainUntil, opened_at: t.at })
          .onConflict('id')
          .ignore();
        await trx('archive_retention').where({ seal_id: t.sealId, status: 'retained' }).update({ status: 'awaiting_disposal_decision', updated_at: trx.fn.now() });
      });
    },

    async closeArchiveDisposalTask(t: { taskId: string; sealId: string; decision: 'approve' | 'retain' | 'superseded'; reason: string | null; decidedBy: string | null; at: string }) {
      await db.transaction(async (trx) => {
        await trx('archive_disposal_tasks').where({ id: t.taskId, status: 'open' }).update({ status: 'done', decision: t.decision, reason: t.reason, decided_by: t.decidedBy, decided_at: t.at });
        if (t.decision !== 'approve') {
          await trx('archive_retention').where({ seal_id: t.sealId, status: 'awaiting_disposal_decision' }).update({ status: 'retained', updated_at: trx.fn.now() });
        }
      });
    },

    /**
     * An approved disposal: the personal data of every case of the seal is erased, the materials' bytes leave
     * the store (unless a live archive or a retained video segment still needs the same content), and a
     * tombstone records what was erased, when and on whose approval. The database refuses it before the
     * retention date and without an approved task (migration 20261127060000_retention).
     */
    async disposeArchive(d: { sealId: string; taskId: string; approvedBy: string; reason: string | null; at: string }) {
      const caseIds = await sealCaseIds(db, d.sealId);
      const erased = await db.transaction(async (trx) => {
        const done = await trx('archive_tombstones').where({ task_id: d.taskId }).first('erased');
        if (done) return done.erased as { blobsErased: string[] };
        const ar = await trx('archive_retention').where({ seal_id: d.sealId }).forUpdate().first();
        if (!ar || Date.parse(d.at) < new Date(ar.retain_until).getTime()) {
          throw ApplicationFailure.nonRetryable(`the archive of seal ${d.sealId} is kept until ${ar ? iso(ar.retain_until) : '(not started)'}`, 'ArchiveUnderRetention');
        }
        await trx('archive_retention').where({ seal_id: d.sealId }).update({ status: 'disposal_approved', disposal_approved_by: d.approvedBy, disposal_approved_at: d.at, updated_at: trx.fn.now() });

        const fields: Record<string, { columns: string[]; rows: number }> = {};
        for (const p of PERSONAL_DATA) {
          const columns = await existingColumns(trx as unknown as Db, p.table, p.columns);
          if (columns.length === 0) continue;
          const q = trx(p.table);
          if (p.of === 'cases') q.whereIn('id', caseIds);
          else if (p.of === 'seal') q.where('id', d.sealId);
          else q.where('seal_id', d.sealId);
          const rows = await q.update(Object.fromEntries(columns.map((c) => [c, null])));
          fields[p.table] = { columns, rows };
        }

        const materials: Array<{ id: string; kind: string; blob_sha256: string }> = await trx('materials').whereIn('case_id', caseIds).orderBy('created_at').select('id', 'kind', 'blob_sha256');
        const shas = [...new Set(materials.map((m) => m.blob_sha256))];
        const neededByMaterials: string[] = shas.length
          ? await trx('materials as m')
              .join('cases as c', 'c.id', 'm.case_id')
              .whereIn('m.blob_sha256', shas)
              .whereNotIn('m.case_id', caseIds)
              .whereNotExists(function () {
                this.select(trx.raw('1'))
                  .from('archive_retention as ar')
                  .join('seals as s', 's.id', 'ar.seal_id')
                  .where('ar.status', 'disposed')
                  .andWhere(function () {
                    this.whereRaw('s.case_id = c.id').orWhereRaw('s.id = c.subject_seal_id');
                  });
              })
              .distinct()
              .pluck('m.blob_sha256')
          : [];
        const neededByVideo: string[] = shas.length ? await trx('video_segments').whereIn('sha256', shas).where({ status: 'retained' }).distinct().pluck('sha256') : [];
        const needed = new Set([...neededByMaterials, ...neededByVideo]);
        const blobsErased = shas.filter((s) => !needed.has(s));
        if (blobsErased.length) await trx('blobs').whereIn('sha256', blobsErased).whereNull('erased_at').update({ erased_at: d.at });

        const summary = {
          cases: caseIds,
          fields,
          materials: materials.map((m) => ({ id: m.id, kind: m.kind, sha256: m.blob_sha256, bytes: needed.has(m.blob_sha256) ? 'kept_still_needed' : 'erased' })),
          blobsErased,
        };
        const seal = await trx('seals').where({ id: d.sealId }).first('seal_code', 'kind', 'holder_id');
        await trx('archive_tombstones').insert({
          task_id: d.taskId,
          seal_id: d.sealId,
          seal_code: seal.seal_code,
          seal_kind: seal.kind,
          holder_id: seal.holder_id,
          end_kind: ar.end_kind,
          ended_at: ar.ended_at,
          retain_until: ar.retain_until,
          disposed_at: d.at,
          approved_by: d.approvedBy,
          approval_reason: d.reason,
          erased: JSON.stringify(summary),
        });
        await trx('archive_retention').where({ seal_id: d.sealId }).update({ status: 'disposed', disposed_at: d.at, updated_at: trx.fn.now() });
        return summary;
      });
      for (const sha of erased.blobsErased) await store().delete(sha);
      return { blobsErased: erased.blobsErased.length };
    },
  };
}

export type RetentionDbActivities = ReturnType<typeof createRetentionDbActivities>;
