// Issue 16 point 7: administrators create and disable accounts. A disabled account keeps its row (the audit
// trail and the records name it) but neither its API tokens nor its sessions nor its password let it in.
// A new account gets a one-time set-password link; only the SHA-256 of the link's token is stored.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.timestamp('disabled_at', { useTz: true });
    t.uuid('disabled_by').references('users.id');
  });
  await knex.schema.createTable('account_setup_links', (t) => {
    t.string('token_sha256', 64).primary();
    t.uuid('user_id').notNullable().references('users.id');
    t.uuid('created_by').notNullable().references('users.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
  });
  await knex.raw('create index account_setup_links_user on account_setup_links (user_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('account_setup_links');
  await knex.schema.alterTable('users', (t) => t.dropColumns('disabled_at', 'disabled_by'));
}
