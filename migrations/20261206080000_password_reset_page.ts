// C3 (issue 14): the approved reset reaches the keeper as a message with a one-time link to a page, where the
// keeper proves identity with the ID number and a code sent by SMS to the phone registered with the request.
// The approval is a grant per reset case (its validity, the code's hash and expiry, wrong attempts, lock); each
// link is minted where it is handed over (the e-mail or SMS being sent, the holder's inbox being opened) and
// stored as its SHA-256 only, so no message, row or history holds it in clear.
import type { Knex } from 'knex';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('password_reset_grants', (t) => {
    t.uuid('case_id').primary().references('cases.id');
    t.uuid('seal_id').notNullable().references('seals.id');
    t.uuid('keeper_id').notNullable().references('seal_keepers.id');
    t.timestamp('approved_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.text('code_hash'); // argon2id of the SMS code: a 6-digit code's plain SHA-256 is read back in a second
    t.timestamp('code_expires_at', { useTz: true });
    t.integer('failed_attempts').notNullable().defaultTo(0);
    t.timestamp('locked_at', { useTz: true });
  });
  // Which hand-over minted a link: a retried e-mail send voids the link its failed attempt minted.
  await knex.schema.alterTable('password_reset_links', (t) => {
    t.string('minted_for', 200);
  });
  // Links handed over by the approving officer before this change get their grant (same validity).
  await knex.raw(`insert into password_reset_grants (case_id, seal_id, keeper_id, approved_at, expires_at, used_at)
    select distinct on (case_id) case_id, seal_id, keeper_id, now(), expires_at, used_at from password_reset_links order by case_id, expires_at desc`);
  await knex.raw('alter table outbox_messages drop constraint outbox_messages_link_is_a_page');
  await knex.raw(`alter table outbox_messages add constraint outbox_messages_link_is_a_page check (link_path is null or link_path ~ '^/(seals|cases|password-reset/cases)/${UUID}$')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table outbox_messages drop constraint outbox_messages_link_is_a_page');
  await knex.raw(`update outbox_messages set link_path = null where link_path like '/password-reset/%'`);
  await knex.raw(`alter table outbox_messages add constraint outbox_messages_link_is_a_page check (link_path is null or link_path ~ '^/(seals|cases)/${UUID}$')`);
  await knex.schema.alterTable('password_reset_links', (t) => t.dropColumn('minted_for'));
  await knex.schema.dropTableIfExists('password_reset_grants');
}
