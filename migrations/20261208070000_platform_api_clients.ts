// I2 + U2: another e-seal platform the city lists reaches the data exchange as an API client of its own tier
// (OAuth client credentials, like every machine client), bound to its trust-list entry.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table api_clients drop constraint api_clients_tier_check');
  await knex.raw("alter table api_clients add constraint api_clients_tier_check check (tier in ('government', 'maker', 'enterprise', 'platform'))");
  await knex.schema.alterTable('api_clients', (t) => {
    t.uuid('platform_id').references('trusted_platforms.id');
  });
  await knex.raw('alter table api_clients drop constraint api_clients_tier_scope');
  await knex.raw(`alter table api_clients add constraint api_clients_tier_scope check (
    (tier = 'maker' and maker_id is not null and platform_id is null)
    or (tier in ('government', 'enterprise') and holder_id is not null and maker_id is null and platform_id is null)
    or (tier = 'platform' and platform_id is not null and holder_id is null and maker_id is null))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex('api_clients').where({ tier: 'platform' }).delete();
  await knex.raw('alter table api_clients drop constraint api_clients_tier_scope');
  await knex.raw(`alter table api_clients add constraint api_clients_tier_scope check (
    (tier = 'maker' and maker_id is not null) or (tier in ('government', 'enterprise') and holder_id is not null and maker_id is null))`);
  await knex.schema.alterTable('api_clients', (t) => t.dropColumn('platform_id'));
  await knex.raw('alter table api_clients drop constraint api_clients_tier_check');
  await knex.raw("alter table api_clients add constraint api_clients_tier_check check (tier in ('government', 'maker', 'enterprise'))");
}
