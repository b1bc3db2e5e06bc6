// M13: a seal reported lost or compromised is revoked with reason keyCompromise and the time from which its
// key is known or suspected compromised (RFC 5280 §5.3.2 invalidityDate), published in the CRL and OCSP.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('seals', (t) => {
    t.timestamp('invalidity_date', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('seals', (t) => t.dropColumn('invalidity_date'));
}
