// The OCSP responder looks seals up by certificate serial on every request.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index seals_certificate_serial on seals (certificate_serial) where certificate_serial is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists seals_certificate_serial');
}
