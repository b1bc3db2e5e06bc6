// Issue 17: every state-changing API request with an `Idempotency-Key` is answered once; a repeat (e.g. after a
// lost answer) gets the first answer (status and body) instead of acting again (web/idempotency.ts).
//   user_id, key    the caller and its key (keys are per user)
//   fingerprint     SHA-256 of method, path and JSON body: the same key for another request is refused
//   lease_until     while the first request runs; a request whose process died is taken over after it
//   status, body    the answer, the body encrypted like personal data (P1; it may carry names and IDs)
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idempotent_requests', (t) => {
    t.uuid('user_id').notNullable().references('users.id');
    t.string('key', 100).notNullable();
    t.string('fingerprint', 64).notNullable();
    t.string('method', 10).notNullable();
    t.string('path', 300).notNullable();
    t.timestamp('lease_until', { useTz: true });
    t.integer('status');
    t.string('content_type', 100);
    t.text('body');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('completed_at', { useTz: true });
    t.primary(['user_id', 'key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotent_requests');
}
