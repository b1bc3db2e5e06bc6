// Seals in the national format (issue 13): the platform's SM2 seal maker (制章者) and, per seal, its SM2 key
// (stored only wrapped by the HSM's SM2 wrapping key: infra/hsm/sm2-module.ts), SM2 certificate and GB/T
// 38540 SESeal. The use register accepts OFD signatures.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gm_seal_makers', (t) => {
    t.string('id', 32).primary(); // 'platform'
    t.string('wrapping_key_label').notNullable();
    t.binary('wrapped_private_key').notNullable();
    t.binary('public_key_spki').notNullable();
    t.binary('certificate_der').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('seal_national', (t) => {
    t.uuid('seal_id').primary().references('seals.id');
    t.string('maker_id', 32).notNullable().references('gm_seal_makers.id');
    t.string('wrapping_key_label').notNullable();
    t.binary('wrapped_private_key'); // null once the seal is cancelled (its only copy destroyed)
    t.binary('public_key_spki').notNullable();
    t.binary('certificate_der').notNullable();
    t.string('certificate_sm3', 64).notNullable().unique(); // SM3 of the certificate: verification finds the seal by it
    t.binary('seal_der').notNullable(); // SESeal v4
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('alter table seal_use_register drop constraint seal_use_register_format');
  await knex.raw(`alter table seal_use_register add constraint seal_use_register_format check (format in ('cms', 'pades', 'ofd'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table seal_use_register drop constraint seal_use_register_format');
  await knex.raw(`alter table seal_use_register add constraint seal_use_register_format check (format in ('cms', 'pades'))`);
  await knex.schema.dropTableIfExists('seal_national');
  await knex.schema.dropTableIfExists('gm_seal_makers');
}
