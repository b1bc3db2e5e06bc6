// Messages to people outside the back office (SMS to keepers: reminders before a protection password
// expires, one-time reset links after an officer approved a reset). A gateway process sends and marks them;
// the body of a reset message is the only place its link exists in clear, and it is erased once sent.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('outbox_messages', (t) => {
    t.uuid('id').primary();
    t.string('message_key').notNullable().unique(); // idempotency: one message per seal/kind/instant
    t.uuid('seal_id').references('seals.id');
    t.string('channel').notNullable(); // sms
    t.string('recipient').notNullable();
    t.string('kind').notNullable(); // password_expiry_reminder | password_expired | password_reset_link
    t.text('body');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('sent_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('outbox_messages');
}
