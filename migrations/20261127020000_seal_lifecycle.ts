// A seal's life after issue (M11–M13, C1–C3, U1): lifecycle requests are cases too (kind ≠ application),
// so tasks, filings, 24-hour deadlines and the timeline are shared with applications. Certificate status
// (hold, revocation) feeds the CRL and the OCSP responder.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cases', (t) => {
    t.string('kind').notNullable().defaultTo('application'); // application | suspend | resume | stop | cancel | replace | password_reset
    t.uuid('subject_seal_id').references('seals.id'); // the seal a lifecycle request is about
    t.text('request_reason');
    t.string('legal_rep_id_number', 18); // M12: ID of the legal representative / operator
    t.index(['subject_seal_id']);
  });

  await knex.schema.alterTable('seals', (t) => {
    t.timestamp('hold_since', { useTz: true }); // suspended: certificate on hold (CRL reason certificateHold)
    t.timestamp('stopped_at', { useTz: true });
    t.uuid('replaces_seal_id').references('seals.id');
  });
  // A replacement keeps its business number (M11): numbers are unique among seals that are not cancelled.
  await knex.raw('drop index seals_business_number');
  await knex.raw(`create unique index seals_business_number on seals (holder_id, kind, number) where number is not null and status <> 'cancelled'`);

  // C1: who keeps (and may use) each seal.
  await knex.schema.createTable('seal_keepers', (t) => {
    t.uuid('id').primary();
    t.uuid('seal_id').notNullable().references('seals.id');
    t.string('name').notNullable();
    t.string('id_number', 18).notNullable();
    t.uuid('added_by').references('users.id');
    t.timestamp('added_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('removed_at', { useTz: true });
  });
  await knex.raw('create unique index seal_keepers_active on seal_keepers (seal_id, id_number) where removed_at is null');

  // C2: the seal's protection password, only as an argon2id hash; C3 resets through one-time links.
  await knex.schema.createTable('protection_passwords', (t) => {
    t.uuid('seal_id').primary().references('seals.id');
    t.text('hash').notNullable();
    t.uuid('set_by_keeper_id').references('seal_keepers.id');
    t.timestamp('set_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.integer('failed_attempts').notNullable().defaultTo(0);
    t.timestamp('locked_until', { useTz: true });
  });
  await knex.schema.createTable('password_reset_links', (t) => {
    t.string('token_sha256', 64).primary();
    t.uuid('seal_id').notNullable().references('seals.id');
    t.uuid('keeper_id').notNullable().references('seal_keepers.id');
    t.uuid('case_id').notNullable().references('cases.id');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
  });

  // The current CRL, regenerated on every status change (number increases monotonically).
  await knex.schema.createTable('crls', (t) => {
    t.bigInteger('crl_number').primary();
    t.binary('der').notNullable();
    t.timestamp('this_update', { useTz: true }).notNullable();
    t.timestamp('next_update', { useTz: true }).notNullable();
  });

  await knex.raw('alter table ca_certificates drop constraint if exists ca_certificates_purpose_check');
  await knex.raw(`alter table ca_certificates add constraint ca_certificates_purpose_check check (purpose in ('root', 'issuing', 'platform_signing', 'ocsp_responder'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table ca_certificates drop constraint if exists ca_certificates_purpose_check');
  await knex.raw(`alter table ca_certificates add constraint ca_certificates_purpose_check check (purpose in ('root', 'issuing', 'platform_signing'))`);
  for (const table of ['crls', 'password_reset_links', 'protection_passwords', 'seal_keepers']) await knex.schema.dropTableIfExists(table);
  await knex.raw('drop index seals_business_number');
  await knex.raw('create unique index seals_business_number on seals (holder_id, kind, number) where number is not null');
  await knex.schema.alterTable('seals', (t) => t.dropColumns('hold_since', 'stopped_at', 'replaces_seal_id'));
  await knex.schema.alterTable('cases', (t) => t.dropColumns('kind', 'subject_seal_id', 'request_reason', 'legal_rep_id_number'));
}
