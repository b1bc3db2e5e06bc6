// The back office in the browser (P1): local passwords (argon2id hashes only), sessions kept in PostgreSQL
// (only the SHA-256 of the session id is stored; the CSRF synchronizer token lives with the session),
// per-username login throttling, and indexes for the pages' queues and dashboards.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.text('password_hash'); // argon2id PHC string; null: no browser login (API token only)
    t.timestamp('password_changed_at', { useTz: true });
  });

  await knex.schema.createTable('web_sessions', (t) => {
    t.string('id_sha256', 64).primary(); // SHA-256 of the 32 random bytes in the cookie
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('csrf_token', 64).notNullable(); // synchronizer token, sent in every form
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable(); // absolute limit
    t.string('user_agent', 300);
    t.string('ip', 64);
    t.index(['user_id']);
    t.index(['expires_at']);
  });

  // Failed logins per username (also for names that do not exist, so a lockout says nothing about them).
  await knex.schema.createTable('login_throttle', (t) => {
    t.string('username', 200).primary();
    t.integer('failed_count').notNullable().defaultTo(0);
    t.timestamp('window_started_at', { useTz: true }).notNullable();
    t.timestamp('locked_until', { useTz: true });
  });

  // The officers' queue: open tasks of a district in due order (due time, then arrival), one index scan.
  await knex.raw(`create index tasks_open_queue on tasks (district_code, due_at, created_at) where status = 'open'`);
  await knex.raw('create index tasks_case_id on tasks (case_id)');
  // The supervisors' dashboard: open cases by state, seals nearing the 3-month unclaimed limit (M9).
  await knex.raw(`create index cases_open_status on cases (status) where status not in ('collected', 'completed', 'rejected', 'cancelled_unclaimed', 'refused')`);
  await knex.raw(`create index seals_ready_unclaimed_due on seals (unclaimed_due_at) where status = 'ready'`);
  await knex.raw('create index seals_holder_created on seals (holder_id, created_at)');
  await knex.raw('create index cases_maker_created on cases (maker_id, created_at)');
}

export async function down(knex: Knex): Promise<void> {
  for (const index of ['cases_maker_created', 'seals_holder_created', 'seals_ready_unclaimed_due', 'cases_open_status', 'tasks_case_id', 'tasks_open_queue']) {
    await knex.raw(`drop index if exists ${index}`);
  }
  await knex.schema.dropTableIfExists('login_throttle');
  await knex.schema.dropTableIfExists('web_sessions');
  await knex.schema.alterTable('users', (t) => t.dropColumns('password_hash', 'password_changed_at'));
}
