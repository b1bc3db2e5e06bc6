// C4 用印登记: every signature a seal makes is a row of the use register, never changed or deleted (M5
// trigger, and the application role holds only SELECT and INSERT: infra/db-roles.ts RECORD_TABLES).
// `signature_sha256` (SHA-256 of the signature value) lets the verification find the entry of a signature,
// which is the platform's own proof that the seal was live and its keeper checked when it signed.
import type { Knex } from 'knex';

const APPEND_ONLY_TRIGGER = 'zzz_m5_append_only';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('seal_use_register', (t) => {
    t.uuid('id').primary(); // the signature request's id (workflow `signature:<id>`)
    t.uuid('seal_id').notNullable().references('seals.id');
    t.uuid('keeper_id').notNullable().references('seal_keepers.id');
    t.uuid('approver_id').references('users.id'); // a use approval (使用流程), when the holder requires one
    t.text('purpose').notNullable();
    t.string('document_type', 32).notNullable();
    t.text('document_name').notNullable();
    t.string('document_sha256', 64).notNullable();
    t.string('format', 16).notNullable();
    t.string('signature_sha256', 64).notNullable();
    t.string('certificate_serial').notNullable();
    t.timestamp('signed_at', { useTz: true }).notNullable();
    t.uuid('requested_by').notNullable().references('users.id');
    t.string('channel', 16).notNullable(); // api | web
    t.string('client_address', 64);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['seal_id', 'signed_at']);
    t.index(['signature_sha256']);
    t.index(['document_sha256']);
  });
  await knex.raw(`alter table seal_use_register
    add constraint seal_use_register_document_type check (document_type in ('official_document', 'licence', 'agreement', 'voucher', 'circulation_form', 'other')),
    add constraint seal_use_register_format check (format in ('cms', 'pades')),
    add constraint seal_use_register_channel check (channel in ('api', 'web')),
    add constraint seal_use_register_purpose check (length(btrim(purpose)) > 0)`);
  await knex.raw(`create trigger ${APPEND_ONLY_TRIGGER} before update or delete or truncate on seal_use_register for each statement execute function m5_records_append_only()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop trigger if exists ${APPEND_ONLY_TRIGGER} on seal_use_register`);
  await knex.schema.dropTableIfExists('seal_use_register');
}
