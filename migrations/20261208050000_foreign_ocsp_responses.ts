// I2 (issue 13): the cached OCSP answers of other platforms' responders, one per (platform, certificate): the
// verification service asks a listed platform's responder about a filed seal's certificate and keeps the
// answer (signature checked) until its nextUpdate, so a burst of verifications asks once.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('foreign_ocsp_responses', (t) => {
    t.uuid('platform_id').notNullable().references('trusted_platforms.id');
    t.string('certificate_sha256', 64).notNullable();
    t.string('status', 8).notNullable(); // good | revoked | unknown
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('this_update', { useTz: true }).notNullable();
    t.timestamp('next_update', { useTz: true });
    t.timestamp('fetched_at', { useTz: true }).notNullable();
    t.binary('der').notNullable(); // the BasicOCSPResponse as received
    t.primary(['platform_id', 'certificate_sha256']);
  });
  await knex.raw(`alter table foreign_ocsp_responses add constraint foreign_ocsp_responses_status check (status in ('good', 'revoked', 'unknown'))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('foreign_ocsp_responses');
}
