// The platform's documents signed (issue 12, M10/M13): the certificate PDF with the maker's seal's PAdES
// signature, one row per document. A record like `documents` itself (M5: append-only trigger, and the
// application role holds only SELECT and INSERT: infra/db-roles.ts RECORD_TABLES); the unsigned PDF stays.
import type { Knex } from 'knex';

const APPEND_ONLY_TRIGGER = 'zzz_m5_append_only';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('signed_documents', (t) => {
    t.uuid('document_id').primary().references('documents.id');
    t.binary('pdf').notNullable();
    t.string('signed_by', 16).notNullable(); // maker_seal | platform
    t.uuid('seal_id').references('seals.id'); // the maker's seal that signed (none: the platform key)
    t.timestamp('signed_at', { useTz: true }).notNullable();
  });
  await knex.raw(`alter table signed_documents add constraint signed_documents_signed_by check (signed_by in ('maker_seal', 'platform'))`);
  await knex.raw(`create trigger ${APPEND_ONLY_TRIGGER} before update or delete or truncate on signed_documents for each statement execute function m5_records_append_only()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop trigger if exists ${APPEND_ONLY_TRIGGER} on signed_documents`);
  await knex.schema.dropTableIfExists('signed_documents');
}
