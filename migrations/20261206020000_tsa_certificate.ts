// The platform's time-stamping authority (RFC 3161) has a certificate of its own beside the CA chain, the
// platform signing key and the OCSP responder (infra/pki/tsa.ts). A use-register entry of a timestamped
// signature (B-T) takes its time from the timestamp: time_source says which clock the entry's time is.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table ca_certificates drop constraint if exists ca_certificates_purpose_check');
  await knex.raw(`alter table ca_certificates add constraint ca_certificates_purpose_check check (purpose in ('root', 'issuing', 'platform_signing', 'ocsp_responder', 'tsa'))`);
  await knex.schema.alterTable('seal_use_register', (t) => {
    t.string('time_source', 16).notNullable().defaultTo('server');
  });
  await knex.raw(`alter table seal_use_register add constraint seal_use_register_time_source_check check (time_source in ('server', 'timestamp'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('seal_use_register', (t) => {
    t.dropColumn('time_source');
  });
  await knex('ca_certificates').where({ purpose: 'tsa' }).delete();
  await knex.raw('alter table ca_certificates drop constraint if exists ca_certificates_purpose_check');
  await knex.raw(`alter table ca_certificates add constraint ca_certificates_purpose_check check (purpose in ('root', 'issuing', 'platform_signing', 'ocsp_responder'))`);
}
