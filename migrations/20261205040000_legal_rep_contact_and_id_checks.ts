// M2: the legal representative's / operator's name and contact collected at application (the ID number has
// its column since the seal lifecycle; the phone is stored encrypted like the handler's), and the maker's
// check of the handler's original identity document (原件核验): who, when, which document. A check is a
// record: rows are only added.
import type { Knex } from 'knex';

/** The M7 erasure guard of `cases` (migration 20261127060000_retention), now also over the new columns. */
const GUARDED = ['handler_name', 'handler_id_number', 'handler_phone', 'legal_rep_id_number'];
async function guardCaseErasure(knex: Knex, columns: string[]): Promise<void> {
  const erased = columns.map((c) => `(old.${c} is not null and new.${c} is null)`).join(' or ');
  await knex.raw(`
    create or replace function m7_guard_erasure_cases() returns trigger language plpgsql as $$
    begin
      if (${erased}) and not exists (
        select 1 from archive_retention ar where ar.seal_id in (select s.id from seals s where s.case_id = new.id or s.id = new.subject_seal_id) and ar.status = 'disposal_approved') then
        raise exception 'M7: personal data in % is erased only by an approved disposal of the seal''s archive', tg_table_name using errcode = 'P0001';
      end if;
      return new;
    end $$`);
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cases', (t) => {
    t.string('legal_rep_name', 100);
    t.text('legal_rep_phone'); // encrypted (P1)
  });
  await guardCaseErasure(knex, [...GUARDED, 'legal_rep_name', 'legal_rep_phone']);
  await knex.schema.createTable('id_document_checks', (t) => {
    t.uuid('id').primary();
    t.uuid('case_id').notNullable().references('cases.id');
    t.string('person', 20).notNullable(); // whose document: handler
    t.string('id_type', 40).notNullable(); // domain/identity-documents.ts
    t.string('id_number_hmac', 64).notNullable(); // the document seen, as its keyed hash (equal to the handler's)
    t.uuid('checked_by').notNullable().references('users.id');
    t.timestamp('checked_at', { useTz: true }).notNullable();
    t.index(['case_id']);
  });
  await knex.raw(`alter table id_document_checks add constraint id_document_checks_person check (person in ('handler'))`);
  await knex.raw(`
    create function id_document_checks_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'M2: an ID document check is never changed or deleted (% refused)', tg_op using errcode = 'P0001';
    end $$`);
  await knex.raw('create trigger id_document_checks_append_only before update or delete on id_document_checks for each row execute function id_document_checks_append_only()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('id_document_checks');
  await knex.raw('drop function if exists id_document_checks_append_only()');
  await guardCaseErasure(knex, GUARDED);
  await knex.schema.alterTable('cases', (t) => t.dropColumns('legal_rep_name', 'legal_rep_phone'));
}
