// M5: production data — and the other records a seal's file keeps (filings, certificates, the unclaimed
// ledger of cancellations, platform-signed statements) — is never changed or deleted in place.
//   production_records            one row per version of a case's production data (v1 from production,
//                                 v2… corrections with reason and author); every version stays readable
//   production_record_decisions   an officer's approval or rejection of a correction (when configured)
//   filing_decisions              the officer's acceptance or return of a filing, instead of updating it
// Mutable projections (cases, seals, tasks, filing_deadlines, …) stay updatable: they are the read model.
// A trigger refuses UPDATE, DELETE and TRUNCATE on the record tables for every role, the owner included;
// the application's role (infra/db-roles.ts, which finds these tables by the trigger) holds only SELECT and
// INSERT on them.
import type { Knex } from 'knex';

/** Tables whose rows are records (also read by infra/db-roles.ts through the trigger name below). */
const RECORD_TABLES = ['production_records', 'production_record_decisions', 'filings', 'filing_decisions', 'documents', 'unclaimed_ledger', 'platform_statements'];
// Named to sort after the M7 truncate guards (zz_m7_…), which then still name themselves first.
const APPEND_ONLY_TRIGGER = 'zzz_m5_append_only';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('production_records', (t) => {
    t.uuid('id').primary();
    t.uuid('case_id').notNullable().references('cases.id');
    t.integer('version').notNullable();
    t.jsonb('data').notNullable();
    t.uuid('on_site_image_id').notNullable().references('materials.id'); // M2: the handler's on-site image
    t.text('reason'); // null for version 1; a correction states why
    t.uuid('author_id').notNullable().references('users.id');
    t.boolean('needs_approval').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['case_id', 'version']);
  });
  await knex.raw(`alter table production_records add constraint production_records_version check (version >= 1),
    add constraint production_records_reason check (version = 1 or length(btrim(reason)) > 0),
    add constraint production_records_first_needs_no_approval check (version > 1 or not needs_approval)`);

  await knex.schema.createTable('production_record_decisions', (t) => {
    t.uuid('record_id').primary().references('production_records.id'); // one decision per correction
    t.string('decision').notNullable();
    t.text('reason');
    t.uuid('decided_by').notNullable().references('users.id');
    t.timestamp('decided_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`alter table production_record_decisions add constraint production_record_decisions_decision check (decision in ('approved', 'rejected')),
    add constraint production_record_decisions_reason check (decision = 'approved' or length(btrim(reason)) > 0)`);

  await knex.schema.createTable('filing_decisions', (t) => {
    t.uuid('filing_id').primary().references('filings.id'); // one decision per filing round
    t.string('decision').notNullable();
    t.text('reason');
    t.timestamp('decided_at', { useTz: true }).notNullable();
  });
  await knex.raw(`alter table filing_decisions add constraint filing_decisions_decision check (decision in ('accepted', 'returned'))`);

  // Move what was kept in place into the records, then drop the in-place copies.
  await knex.raw(`insert into production_records (id, case_id, version, data, on_site_image_id, author_id, created_at)
    select gen_random_uuid(), c.id, 1, c.production_data, c.on_site_image_id, c.created_by, c.updated_at
    from cases c where c.production_data is not null and c.on_site_image_id is not null`);
  await knex.raw(`insert into filing_decisions (filing_id, decision, reason, decided_at)
    select f.id, f.status, f.returned_reason, f.submitted_at from filings f where f.status in ('accepted', 'returned')`);
  await knex.schema.alterTable('cases', (t) => t.dropColumns('production_data', 'on_site_image_id'));
  await knex.schema.alterTable('filings', (t) => t.dropColumns('status', 'returned_reason'));

  await knex.raw(`
    create function m5_records_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'M5: % rows are records and are never changed or deleted in place (% refused); a correction is a new version', tg_table_name, tg_op
        using errcode = 'insufficient_privilege';
    end $$`);
  // Per statement, not per row: an UPDATE or DELETE is refused even when it would match no row.
  for (const table of RECORD_TABLES) {
    await knex.raw(`create trigger ${APPEND_ONLY_TRIGGER} before update or delete or truncate on ?? for each statement execute function m5_records_append_only()`, [table]);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of RECORD_TABLES) await knex.raw(`drop trigger if exists ${APPEND_ONLY_TRIGGER} on ??`, [table]);
  await knex.raw('drop function if exists m5_records_append_only()');
  await knex.schema.alterTable('cases', (t) => {
    t.jsonb('production_data');
    t.uuid('on_site_image_id');
  });
  await knex.schema.alterTable('filings', (t) => {
    t.string('status').notNullable().defaultTo('submitted');
    t.text('returned_reason');
  });
  // The latest effective version and each decision go back in place.
  await knex.raw(`update cases c set production_data = p.data, on_site_image_id = p.on_site_image_id from (
    select distinct on (r.case_id) r.case_id, r.data, r.on_site_image_id from production_records r
    left join production_record_decisions d on d.record_id = r.id
    where not r.needs_approval or d.decision = 'approved' order by r.case_id, r.version desc) p where p.case_id = c.id`);
  await knex.raw(`update filings f set status = d.decision, returned_reason = d.reason from filing_decisions d where d.filing_id = f.id`);
  for (const table of ['filing_decisions', 'production_record_decisions', 'production_records']) await knex.schema.dropTableIfExists(table);
}
