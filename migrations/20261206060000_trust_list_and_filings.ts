// I2 (issue 13): the other e-seal platforms the city recognises (trust list), each change a four-eyes task,
// the exchange accounts other platforms file through, the seals they filed, and the cached CRLs of those
// platforms the verification service checks against.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A data-exchange client is an API account of its own role, bound to one listed platform.
  await knex.raw('alter table users drop constraint if exists users_role_check');
  await knex.raw(`alter table users add constraint users_role_check check (role in ('officer', 'supervisor', 'maker', 'holder', 'admin', 'exchange'))`);
  await knex.raw('alter table users drop constraint users_scope');
  await knex.raw(`alter table users add constraint users_scope check (
    (role = 'officer' and district_code is not null and maker_id is null and holder_id is null) or
    (role = 'maker' and maker_id is not null and district_code is null and holder_id is null) or
    (role = 'holder' and holder_id is not null and district_code is null and maker_id is null) or
    (role in ('supervisor', 'admin', 'exchange') and district_code is null and maker_id is null and holder_id is null))`);

  await knex.schema.createTable('trusted_platforms', (t) => {
    t.uuid('id').primary();
    t.string('code', 32).notNullable().unique(); // e.g. ZJ-ESEAL: how reports and filings name the platform
    t.string('name', 200).notNullable();
    t.string('status', 16).notNullable(); // active | suspended | withdrawn
    t.string('crl_url', 500);
    t.string('ocsp_url', 500);
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`alter table trusted_platforms add constraint trusted_platforms_status check (status in ('active', 'suspended', 'withdrawn'))`);
  // Root (trust anchor) and seal-making (制章者) certificates; replaced as a set by each approved change.
  await knex.schema.createTable('trusted_platform_certificates', (t) => {
    t.uuid('platform_id').notNullable().references('trusted_platforms.id');
    t.string('role', 8).notNullable(); // root | maker
    t.string('sha256', 64).notNullable();
    t.binary('der').notNullable();
    t.string('subject', 500).notNullable();
    t.primary(['platform_id', 'role', 'sha256']);
  });
  await knex.schema.createTable('trust_list_changes', (t) => {
    t.uuid('id').primary();
    t.uuid('platform_id').notNullable(); // the platform created by or changed by this proposal
    t.string('kind', 8).notNullable(); // create | update
    t.jsonb('proposal').notNullable();
    t.string('status', 16).notNullable(); // pending | approved | rejected
    t.string('workflow_id').notNullable().unique();
    t.uuid('proposed_by').notNullable().references('users.id');
    t.timestamp('proposed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.uuid('decided_by').references('users.id');
    t.timestamp('decided_at', { useTz: true });
    t.string('reason', 500);
  });
  // Four eyes in the database too: the decider is never the proposer.
  await knex.raw('alter table trust_list_changes add constraint trust_list_changes_four_eyes check (decided_by is null or decided_by <> proposed_by)');
  await knex.raw(`create unique index trust_list_changes_one_pending on trust_list_changes (platform_id) where status = 'pending'`);

  await knex.schema.createTable('exchange_accounts', (t) => {
    t.uuid('user_id').primary().references('users.id');
    t.uuid('platform_id').notNullable().references('trusted_platforms.id');
  });

  await knex.schema.createTable('external_seals', (t) => {
    t.uuid('id').primary();
    t.uuid('platform_id').notNullable().references('trusted_platforms.id');
    t.string('district_code', 6).notNullable().references('districts.code');
    t.string('format', 8).notNullable(); // ses_v4 | x509
    t.string('es_id', 64).notNullable(); // the seal's identifier on its platform (SES esID or certificate serial)
    t.string('holder_uscc', 18).notNullable();
    t.string('holder_name', 200).notNullable();
    t.string('kind').notNullable();
    t.integer('number');
    t.string('name', 200).notNullable(); // the seal's name as filed
    t.binary('seal_der'); // SESeal, when filed as one
    t.binary('certificate_der').notNullable(); // the signer's (holder's) certificate
    t.string('certificate_sm3', 64).notNullable().unique(); // verification finds the seal by it
    t.string('certificate_serial', 64).notNullable();
    t.string('maker_sha256', 64); // the seal maker's certificate (SESeal) — null for an X.509 filing
    t.binary('imprint');
    t.string('imprint_type', 8);
    t.timestamp('valid_from', { useTz: true }).notNullable();
    t.timestamp('valid_to', { useTz: true }).notNullable();
    t.string('status', 16).notNullable().defaultTo('filed'); // filed | withdrawn
    t.uuid('filed_by').notNullable().references('users.id');
    t.timestamp('filed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['platform_id', 'es_id']);
    t.index(['district_code', 'filed_at']);
  });
  // A1 across filings, enforced by the database so that two racing filings cannot both pass.
  await knex.raw(`create unique index external_seals_one_legal_name on external_seals (holder_uscc) where kind = 'legal_name' and status = 'filed'`);
  await knex.raw(`create unique index external_seals_business_number on external_seals (holder_uscc, kind, number) where number is not null`);

  // The last good CRL of each listed platform (fetched over HTTP, signature checked) with its revoked serials.
  await knex.schema.createTable('foreign_crls', (t) => {
    t.uuid('platform_id').primary().references('trusted_platforms.id');
    t.string('url', 500).notNullable();
    t.binary('der').notNullable();
    t.jsonb('revoked').notNullable(); // { serialHex: revocationDate ISO }
    t.timestamp('this_update', { useTz: true }).notNullable();
    t.timestamp('next_update', { useTz: true });
    t.timestamp('fetched_at', { useTz: true }).notNullable();
    t.string('last_error', 500);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['foreign_crls', 'external_seals', 'exchange_accounts', 'trust_list_changes', 'trusted_platform_certificates', 'trusted_platforms']) await knex.schema.dropTableIfExists(t);
  await knex.raw('alter table users drop constraint users_scope');
  await knex.raw(`alter table users add constraint users_scope check (
    (role = 'officer' and district_code is not null and maker_id is null and holder_id is null) or
    (role = 'maker' and maker_id is not null and district_code is null and holder_id is null) or
    (role = 'holder' and holder_id is not null and district_code is null and maker_id is null) or
    (role in ('supervisor', 'admin') and district_code is null and maker_id is null and holder_id is null))`);
  await knex.raw('alter table users drop constraint users_role_check');
  await knex.raw(`alter table users add constraint users_role_check check (role in ('officer', 'supervisor', 'maker', 'holder', 'admin'))`);
}
