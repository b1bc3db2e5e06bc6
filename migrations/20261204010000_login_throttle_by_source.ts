// P1/P3 (issue 18): login throttling without a lockout anyone can trigger. Failures are counted per
// (username, source address), per source and per account; the account-wide lock does not apply to sources
// the account has logged in from before. Replaces the per-username `login_throttle`, whose lock anyone who
// knew a username could set.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('login_throttles', (t) => {
    t.string('scope', 16).notNullable(); // account_source | source | account
    t.string('key', 300).notNullable(); // username, source, or both joined by a space
    t.integer('failed_count').notNullable().defaultTo(0);
    t.timestamp('window_started_at', { useTz: true }).notNullable();
    t.timestamp('locked_until', { useTz: true });
    t.integer('lock_level').notNullable().defaultTo(0); // each further lock doubles (back-off)
    t.primary(['scope', 'key']);
  });
  await knex.schema.createTable('login_known_sources', (t) => {
    t.string('username', 200).notNullable();
    t.string('source', 64).notNullable();
    t.timestamp('last_success_at', { useTz: true }).notNullable();
    t.primary(['username', 'source']);
  });
  await knex.schema.dropTableIfExists('login_throttle');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('login_known_sources');
  await knex.schema.dropTableIfExists('login_throttles');
  await knex.schema.createTable('login_throttle', (t) => {
    t.string('username', 200).primary();
    t.integer('failed_count').notNullable().defaultTo(0);
    t.timestamp('window_started_at', { useTz: true }).notNullable();
    t.timestamp('locked_until', { useTz: true });
  });
}
