// Foundation: districts (P3), makers with licences (M1), holders (S2), people who log in, the
// platform's CA certificates, and platform-signed statements.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('districts', (t) => {
    t.string('code', 6).primary(); // GB/T 2260
    t.string('name_zh').notNullable();
    t.string('name_en').notNullable();
  });

  await knex.schema.createTable('makers', (t) => {
    t.uuid('id').primary();
    t.string('name').notNullable();
    t.string('uscc', 18).notNullable().unique();
    t.string('licence_no').notNullable().unique();
    t.string('district_code', 6).notNullable().references('districts.code');
    t.date('licence_valid_from').notNullable();
    t.date('licence_valid_until').notNullable();
    t.enu('licence_status', ['active', 'suspended', 'revoked']).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('holders', (t) => {
    t.uuid('id').primary();
    t.string('uscc', 18).notNullable().unique();
    t.string('name').notNullable();
    t.string('kind').notNullable();
    t.string('district_code', 6).notNullable().references('districts.code');
    t.string('address').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary();
    t.string('username').notNullable().unique();
    t.string('display_name').notNullable();
    t.enu('role', ['officer', 'supervisor', 'maker', 'holder', 'admin']).notNullable();
    t.string('district_code', 6).references('districts.code');
    t.uuid('maker_id').references('makers.id');
    t.uuid('holder_id').references('holders.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Scope is part of the row: an officer has exactly one district, maker staff one maker, holder staff one holder.
  await knex.raw(`alter table users add constraint users_scope check (
    (role = 'officer' and district_code is not null and maker_id is null and holder_id is null) or
    (role = 'maker' and maker_id is not null and district_code is null and holder_id is null) or
    (role = 'holder' and holder_id is not null and district_code is null and maker_id is null) or
    (role in ('supervisor', 'admin') and district_code is null and maker_id is null and holder_id is null))`);

  // Bearer tokens for the JSON API; only their SHA-256 is stored.
  await knex.schema.createTable('api_tokens', (t) => {
    t.string('token_sha256', 64).primary();
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('label').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true });
  });

  await knex.schema.createTable('ca_certificates', (t) => {
    t.string('fingerprint_sha256', 64).primary();
    t.enu('purpose', ['root', 'issuing', 'platform_signing']).notNullable();
    t.string('key_label').notNullable();
    t.text('subject').notNullable();
    t.string('serial').notNullable();
    t.binary('der').notNullable();
    t.text('pem').notNullable();
    t.timestamp('not_before', { useTz: true }).notNullable();
    t.timestamp('not_after', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // Statements signed by the platform key in the HSM (imprint bindings, audit heads, …).
  await knex.schema.createTable('platform_statements', (t) => {
    t.uuid('id').primary();
    t.string('kind').notNullable();
    t.jsonb('payload').notNullable();
    t.string('payload_sha256', 64).notNullable();
    t.binary('signature').notNullable(); // DER ECDSA-SHA256 over the canonical payload bytes
    t.string('certificate_fingerprint', 64).notNullable().references('ca_certificates.fingerprint_sha256');
    t.uuid('requested_by').references('users.id');
    t.string('workflow_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['platform_statements', 'ca_certificates', 'api_tokens', 'users', 'holders', 'makers', 'districts']) {
    await knex.schema.dropTableIfExists(table);
  }
}
