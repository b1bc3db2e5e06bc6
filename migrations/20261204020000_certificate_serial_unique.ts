// Certificate serials are unique per issuer (RFC 5280 §4.1.2.2); seal certificates have one issuing CA, so
// a serial appears on at most one seal. The unique index replaces the plain lookup index of the OCSP responder.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create unique index seals_certificate_serial_unique on seals (certificate_serial) where certificate_serial is not null');
  await knex.raw('drop index if exists seals_certificate_serial');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('create index if not exists seals_certificate_serial on seals (certificate_serial) where certificate_serial is not null');
  await knex.raw('drop index if exists seals_certificate_serial_unique');
}
