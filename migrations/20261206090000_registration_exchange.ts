// A3 as an exchange: the market-regulation authority's signed batches of newly registered holders. Each batch
// is kept as received (the JSON Lines and their detached CMS signature), identified by the SHA-256 of its
// content so that the same batch, however often delivered, is imported once; its report lists the accepted
// rows and each refused row with the field at fault. The certificates whose signatures the platform accepts
// are listed by the administrator.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('registration_feed_certificates', (t) => {
    t.string('fingerprint', 64).primary(); // SHA-256 of the DER
    t.text('certificate_pem').notNullable();
    t.text('subject').notNullable();
    t.timestamp('not_after', { useTz: true }).notNullable();
    t.string('status').notNullable().defaultTo('active'); // active | withdrawn
    t.uuid('added_by').notNullable().references('users.id');
    t.timestamp('added_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`alter table registration_feed_certificates add constraint registration_feed_certificates_status check (status in ('active', 'withdrawn'))`);

  await knex.schema.createTable('registration_batches', (t) => {
    t.string('id', 64).primary(); // SHA-256 of the batch content
    t.string('source').notNullable(); // https | inbox
    t.text('file_name');
    t.binary('content').notNullable();
    t.binary('signature').notNullable();
    t.string('signer_fingerprint', 64).notNullable().references('registration_feed_certificates.fingerprint');
    t.string('status').notNullable().defaultTo('received'); // received | imported
    t.integer('accepted');
    t.integer('refused');
    t.jsonb('report');
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('imported_at', { useTz: true });
  });
  await knex.raw(`alter table registration_batches add constraint registration_batches_status check (status in ('received', 'imported'))`);
  await knex.raw(`alter table registration_batches add constraint registration_batches_source check (source in ('https', 'inbox'))`);
  // Which batch last registered a holder (the report's rows point at holders, and a holder at its batch).
  await knex.schema.alterTable('holders', (t) => {
    t.string('registration_batch_id', 64).references('registration_batches.id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('holders', (t) => t.dropColumn('registration_batch_id'));
  await knex.schema.dropTable('registration_batches');
  await knex.schema.dropTable('registration_feed_certificates');
}
