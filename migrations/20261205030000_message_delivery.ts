// Delivery of outbox messages (issue 14, "Delivery"): each message goes to a holder's or a maker's accounts
// through the configured channels (web inbox, e-mail, SMS), one delivery row per message, channel and
// account whose idempotency key makes a second send impossible to record; read receipts for the inbox.
// Accounts get a work e-mail address and phone for the e-mail and SMS channels (set by the administrator).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.string('email', 254);
    t.string('phone', 20);
  });
  await knex.schema.alterTable('outbox_messages', (t) => {
    // Whose accounts receive it: 'holder' (recipient = holders.id, as every message before) or 'maker' (makers.id).
    t.string('audience').notNullable().defaultTo('holder');
    t.uuid('case_id').references('cases.id');
    // A page of the web the message points to (never a token: no secret in a message).
    t.string('link_path');
  });
  await knex.raw(`alter table outbox_messages add constraint outbox_messages_audience check (audience in ('holder', 'maker'))`);
  // Only pages named by a record's id: a link can never carry a token.
  await knex.raw(`alter table outbox_messages add constraint outbox_messages_link_is_a_page check (link_path is null or link_path ~ '^/(seals|cases)/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')`);

  await knex.schema.createTable('message_deliveries', (t) => {
    t.uuid('id').primary();
    t.uuid('message_id').notNullable().references('outbox_messages.id');
    t.string('channel').notNullable(); // inbox | email | sms
    t.uuid('user_id').notNullable().references('users.id');
    t.string('idempotency_key').notNullable().unique(); // <message id>:<channel>:<user id>
    t.string('status').notNullable(); // sending | sent | failed
    t.integer('attempts').notNullable().defaultTo(0);
    t.string('provider_id'); // SMTP Message-ID / the gateway's id
    t.text('error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sent_at', { useTz: true });
  });
  await knex.raw(`alter table message_deliveries add constraint message_deliveries_status check (status in ('sending', 'sent', 'failed'))`);
  await knex.raw('create index message_deliveries_user on message_deliveries (user_id, channel)');

  await knex.schema.createTable('message_reads', (t) => {
    t.uuid('message_id').notNullable().references('outbox_messages.id');
    t.uuid('user_id').notNullable().references('users.id');
    t.timestamp('read_at', { useTz: true }).notNullable();
    t.primary(['message_id', 'user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('message_reads');
  await knex.schema.dropTableIfExists('message_deliveries');
  await knex.schema.alterTable('outbox_messages', (t) => {
    t.dropColumn('link_path');
    t.dropColumn('case_id');
    t.dropColumn('audience');
  });
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('phone');
    t.dropColumn('email');
  });
}
