// Retention (M7, M8): premises surveillance video kept at least 90 days with every access logged, and each
// seal's archive kept at least 5 years after the seal ends, then disposed of only on a supervisor's approval.
// The database refuses what the regulation forbids, not only the code:
// - video segments are never deleted and never altered; a purge only marks the row (its tombstone) and is
//   refused before the retention date or while a legal hold is on;
// - the access log, legal holds and archive tombstones are append-only;
// - archive records (cases, seals, materials, filings, documents, timeline, …) are never deleted, and a
//   person's ID number or phone in them is erased only within an approved disposal.
import type { Knex } from 'knex';

/** Archive tables whose rows are never deleted (M7): disposal erases personal data, it does not delete records. */
const ARCHIVE_TABLES = ['cases', 'seals', 'materials', 'filings', 'filing_deadlines', 'documents', 'case_events', 'unclaimed_ledger', 'blobs'];

/** Personal data erased by an approved disposal (kept in step with activities/retention.ts PERSONAL_DATA). */
const ERASABLE: Record<string, string[]> = {
  cases: ['handler_name', 'handler_id_number', 'handler_phone', 'legal_rep_id_number'],
  seals: ['person_id_number'],
  seal_keepers: ['id_number'],
};

async function existingColumns(knex: Knex, table: string, columns: string[]): Promise<string[]> {
  if (!(await knex.schema.hasTable(table))) return [];
  const out: string[] = [];
  for (const c of columns) if (await knex.schema.hasColumn(table, c)) out.push(c);
  return out;
}

export async function up(knex: Knex): Promise<void> {
  // ---------- M8: premises surveillance video ----------
  await knex.schema.createTable('video_segments', (t) => {
    t.uuid('id').primary();
    t.uuid('maker_id').notNullable().references('makers.id');
    t.string('district_code', 6).notNullable().references('districts.code'); // the maker's premises (P3)
    t.string('camera_id', 64).notNullable();
    t.timestamp('recorded_start', { useTz: true }).notNullable();
    t.timestamp('recorded_end', { useTz: true }).notNullable();
    t.string('sha256', 64).notNullable().references('blobs.sha256');
    t.bigInteger('size').notNullable();
    t.string('content_type').notNullable();
    t.string('original_name').notNullable();
    t.uuid('uploaded_by').notNullable().references('users.id');
    t.timestamp('stored_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('retain_until', { useTz: true }); // set once by the retention workflow
    t.string('status').notNullable().defaultTo('retained'); // retained | purged
    // The tombstone: the row stays, the bytes go.
    t.timestamp('purged_at', { useTz: true });
    t.string('purge_basis'); // retention_policy | legal_hold_lifted
    t.uuid('purge_ordered_by').references('users.id'); // who lifted the last hold; null for the retention policy
    t.index(['maker_id', 'camera_id', 'recorded_start']);
    t.index(['district_code', 'recorded_start']);
  });
  await knex.raw(`alter table video_segments add constraint video_segments_interval check (recorded_end > recorded_start)`);
  await knex.raw(`alter table video_segments add constraint video_segments_status check (status in ('retained', 'purged'))`);
  await knex.raw(`alter table video_segments add constraint video_segments_tombstone check (
    (status = 'retained' and purged_at is null and purge_basis is null and purge_ordered_by is null) or
    (status = 'purged' and purged_at is not null and retain_until is not null and
      ((purge_basis = 'retention_policy' and purge_ordered_by is null) or (purge_basis = 'legal_hold_lifted' and purge_ordered_by is not null))))`);

  await knex.schema.createTable('video_legal_holds', (t) => {
    t.uuid('id').primary();
    t.uuid('segment_id').notNullable().references('video_segments.id');
    t.uuid('placed_by').notNullable().references('users.id');
    t.string('placed_role').notNullable();
    t.text('reason').notNullable();
    t.timestamp('placed_at', { useTz: true }).notNullable();
    t.uuid('lifted_by').references('users.id');
    t.string('lifted_role');
    t.text('lift_reason');
    t.timestamp('lifted_at', { useTz: true });
    t.index(['segment_id']);
  });

  // Who, what, when, why, outcome — for every attempt, allowed or refused.
  await knex.schema.createTable('video_access_log', (t) => {
    t.bigIncrements('id');
    t.uuid('segment_id').references('video_segments.id');
    t.uuid('actor_id').notNullable().references('users.id');
    t.string('actor_role').notNullable();
    t.string('actor_district_code', 6);
    t.uuid('actor_maker_id');
    t.string('action').notNullable(); // upload | view | export | delete | alter | place_legal_hold | lift_legal_hold
    t.text('reason');
    t.string('outcome').notNullable(); // allowed | refused | failed
    t.string('code'); // why it was refused or failed
    t.string('client_address');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['segment_id', 'at']);
  });
  await knex.raw(`alter table video_access_log add constraint video_access_log_outcome check (outcome in ('allowed', 'refused', 'failed'))`);

  await knex.raw(`
    create function video_segments_guard() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        raise exception 'M8: video segments are never deleted; the retention workflow purges the bytes and keeps the row as a tombstone' using errcode = 'P0001';
      end if;
      if (new.id, new.maker_id, new.district_code, new.camera_id, new.recorded_start, new.recorded_end, new.sha256, new.size, new.content_type, new.original_name, new.uploaded_by, new.stored_at)
         is distinct from (old.id, old.maker_id, old.district_code, old.camera_id, old.recorded_start, old.recorded_end, old.sha256, old.size, old.content_type, old.original_name, old.uploaded_by, old.stored_at) then
        raise exception 'M8: a video segment is never altered (segment %)', old.id using errcode = 'P0001';
      end if;
      if old.retain_until is not null and new.retain_until is distinct from old.retain_until then
        raise exception 'M8: the retention date of segment % is fixed once set', old.id using errcode = 'P0001';
      end if;
      if old.status = 'purged' and new is distinct from old then
        raise exception 'M8: segment % is purged; its tombstone is not changed', old.id using errcode = 'P0001';
      end if;
      if new.status = 'purged' and old.status <> 'purged' then
        if new.retain_until is null or new.purged_at < new.retain_until then
          raise exception 'M8: segment % is within its retention period (until %)', old.id, new.retain_until using errcode = 'P0001';
        end if;
        if exists (select 1 from video_legal_holds h where h.segment_id = old.id and h.lifted_at is null) then
          raise exception 'M8: segment % is under a legal hold', old.id using errcode = 'P0001';
        end if;
      end if;
      return new;
    end $$`);
  await knex.raw(`create trigger video_segments_guard before update or delete on video_segments for each row execute function video_segments_guard()`);

  await knex.raw(`
    create function retention_append_only() returns trigger language plpgsql as $$
    begin
      raise exception '%: rows are never changed or deleted (%)', tg_table_name, tg_op using errcode = 'P0001';
    end $$`);
  await knex.raw(`create trigger video_access_log_append_only before update or delete on video_access_log for each row execute function retention_append_only()`);
  await knex.raw(`create trigger video_access_log_no_truncate before truncate on video_access_log for each statement execute function retention_append_only()`);

  // A hold is placed once and lifted once; nothing else about it changes, and it is never deleted.
  await knex.raw(`
    create function video_legal_holds_guard() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' or old.lifted_at is not null or new.lifted_at is null
         or (new.id, new.segment_id, new.placed_by, new.placed_role, new.reason, new.placed_at) is distinct from (old.id, old.segment_id, old.placed_by, old.placed_role, old.reason, old.placed_at) then
        raise exception 'M8: a legal hold is placed once and lifted once, never changed or deleted' using errcode = 'P0001';
      end if;
      return new;
    end $$`);
  await knex.raw(`create trigger video_legal_holds_guard before update or delete on video_legal_holds for each row execute function video_legal_holds_guard()`);

  // ---------- M7: seal archives ----------
  await knex.schema.createTable('archive_retention', (t) => {
    t.uuid('seal_id').primary().references('seals.id');
    t.string('end_kind').notNullable(); // stopped | cancelled (the latest end)
    t.timestamp('ended_at', { useTz: true }).notNullable();
    t.string('policy').notNullable(); // e.g. P5Y (temporal.yaml durations.archiveRetention)
    t.timestamp('retain_until', { useTz: true }).notNullable();
    t.string('status').notNullable(); // retained | awaiting_disposal_decision | disposal_approved | disposed
    t.uuid('disposal_approved_by').references('users.id');
    t.timestamp('disposal_approved_at', { useTz: true });
    t.timestamp('disposed_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`alter table archive_retention add constraint archive_retention_status check (status in ('retained', 'awaiting_disposal_decision', 'disposal_approved', 'disposed'))`);

  // The supervisor's disposal task (city level: I1); decided through the archive workflow's Update.
  await knex.schema.createTable('archive_disposal_tasks', (t) => {
    t.uuid('id').primary();
    t.uuid('seal_id').notNullable().references('seals.id');
    t.string('district_code', 6).notNullable().references('districts.code');
    t.string('status').notNullable(); // open | done
    t.timestamp('retain_until', { useTz: true }).notNullable();
    t.timestamp('opened_at', { useTz: true }).notNullable();
    t.string('decision'); // approve | retain | superseded
    t.text('reason');
    t.uuid('decided_by').references('users.id');
    t.timestamp('decided_at', { useTz: true });
  });
  await knex.raw(`create index archive_disposal_tasks_open on archive_disposal_tasks (opened_at) where status = 'open'`);

  // One per approved disposal (a seal disposed of and later ended again, e.g. stopped then cancelled, has two).
  await knex.schema.createTable('archive_tombstones', (t) => {
    t.uuid('task_id').primary().references('archive_disposal_tasks.id');
    t.uuid('seal_id').notNullable().references('seals.id');
    t.string('seal_code');
    t.string('seal_kind').notNullable();
    t.uuid('holder_id').notNullable().references('holders.id');
    t.string('end_kind').notNullable();
    t.timestamp('ended_at', { useTz: true }).notNullable();
    t.timestamp('retain_until', { useTz: true }).notNullable();
    t.timestamp('disposed_at', { useTz: true }).notNullable();
    t.uuid('approved_by').notNullable().references('users.id');
    t.text('approval_reason');
    t.jsonb('erased').notNullable(); // what was erased: fields per table, materials and their bytes
    t.index(['seal_id']);
  });
  await knex.raw(`create trigger archive_tombstones_append_only before update or delete on archive_tombstones for each row execute function retention_append_only()`);

  // A disposal is approved only after the retention date, by a supervisor's approved task.
  await knex.raw(`
    create function archive_retention_guard() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        raise exception 'M7: archive retention records are never deleted' using errcode = 'P0001';
      end if;
      if old.status = 'disposed' and new is distinct from old
         and not (new.status = 'retained' and new.ended_at > old.ended_at) then
        -- Only a later end of the seal (stopped, then cancelled) opens a new retention period.
        raise exception 'M7: the archive of seal % is disposed; its record is final', old.seal_id using errcode = 'P0001';
      end if;
      if new.status = 'disposed' and old.status <> 'disposal_approved' then
        raise exception 'M7: the archive of seal % is disposed of only after an approved disposal', old.seal_id using errcode = 'P0001';
      end if;
      if new.retain_until < old.retain_until then
        raise exception 'M7: the retention of seal % is never shortened', old.seal_id using errcode = 'P0001';
      end if;
      if new.status = 'disposal_approved' and old.status <> 'disposal_approved' then
        if new.disposal_approved_at is null or new.disposal_approved_at < new.retain_until then
          raise exception 'M7: the archive of seal % is kept until %; nothing can dispose of it earlier', old.seal_id, new.retain_until using errcode = 'P0001';
        end if;
        if not exists (select 1 from archive_disposal_tasks t where t.seal_id = old.seal_id and t.decision = 'approve'
                       and t.decided_by = new.disposal_approved_by and t.decided_at >= new.retain_until) then
          raise exception 'M7: disposing of the archive of seal % needs a supervisor''s approved disposal task', old.seal_id using errcode = 'P0001';
        end if;
      end if;
      return new;
    end $$`);
  await knex.raw(`create trigger archive_retention_guard before update or delete on archive_retention for each row execute function archive_retention_guard()`);

  // Archive records are never deleted (the trigger name sorts last, so other guards on these tables speak first).
  await knex.raw(`
    create function archive_no_delete() returns trigger language plpgsql as $$
    begin
      raise exception 'M7: % rows belong to seal archives and are never deleted; an approved disposal erases personal data only', tg_table_name using errcode = 'P0001';
    end $$`);
  for (const table of ARCHIVE_TABLES) {
    await knex.raw(`create trigger zz_m7_archive_no_delete before delete on ?? for each row execute function archive_no_delete()`, [table]);
    await knex.raw(`create trigger zz_m7_archive_no_truncate before truncate on ?? for each statement execute function archive_no_delete()`, [table]);
  }

  // Personal data in an archive is erased only within an approved disposal of that seal's archive.
  await knex.raw('alter table blobs add column erased_at timestamptz'); // the bytes were removed by a disposal
  for (const [table, wanted] of Object.entries(ERASABLE)) {
    const columns = await existingColumns(knex, table, wanted);
    if (columns.length === 0) continue;
    for (const c of columns) await knex.raw('alter table ?? alter column ?? drop not null', [table, c]);
    const erased = columns.map((c) => `(old.${c} is not null and new.${c} is null)`).join(' or ');
    const sealOf =
      table === 'cases'
        ? 'select s.id from seals s where s.case_id = new.id or s.id = new.subject_seal_id'
        : table === 'seals'
          ? 'select new.id'
          : 'select new.seal_id';
    await knex.raw(`
      create function m7_guard_erasure_${table}() returns trigger language plpgsql as $$
      begin
        if (${erased}) and not exists (
          select 1 from archive_retention ar where ar.seal_id in (${sealOf}) and ar.status = 'disposal_approved') then
          raise exception 'M7: personal data in % is erased only by an approved disposal of the seal''s archive', tg_table_name using errcode = 'P0001';
        end if;
        return new;
      end $$`);
    await knex.raw(`create trigger zz_m7_guard_erasure before update on ?? for each row execute function m7_guard_erasure_${table}()`, [table]);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of Object.keys(ERASABLE)) {
    if (!(await knex.schema.hasTable(table))) continue;
    await knex.raw('drop trigger if exists zz_m7_guard_erasure on ??', [table]);
    await knex.raw(`drop function if exists m7_guard_erasure_${table}()`);
  }
  for (const table of ARCHIVE_TABLES) {
    await knex.raw('drop trigger if exists zz_m7_archive_no_delete on ??', [table]);
    await knex.raw('drop trigger if exists zz_m7_archive_no_truncate on ??', [table]);
  }
  await knex.raw('drop function if exists archive_no_delete()');
  await knex.raw('alter table blobs drop column if exists erased_at');
  for (const table of ['archive_tombstones', 'archive_disposal_tasks', 'archive_retention', 'video_access_log', 'video_legal_holds', 'video_segments']) {
    await knex.schema.dropTableIfExists(table);
  }
  for (const fn of ['archive_retention_guard', 'video_legal_holds_guard', 'retention_append_only', 'video_segments_guard']) await knex.raw(`drop function if exists ${fn}()`);
  // NOT NULL is not restored on the personal-data columns: disposed archives hold nulls there.
}
