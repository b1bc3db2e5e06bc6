// U2: API clients by tier. Supervisors register machine clients of government departments, makers and
// enterprises / social organisations, each with its public key; a client gets short-lived access tokens at
// POST /api/oauth/token with a signed JWT assertion (RFC 7523). Each client acts through a service account
// (a users row without password, so that the records that name a user — use register, cases, idempotency —
// name the client's account); only the SHA-256 of an access token is stored; the jti of every accepted
// assertion is kept until it expires so that a replayed assertion is refused.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_clients', (t) => {
    t.uuid('id').primary(); // the OAuth client_id
    t.string('name', 200).notNullable();
    t.enu('tier', ['government', 'maker', 'enterprise']).notNullable();
    t.uuid('user_id').notNullable().unique().references('users.id');
    t.uuid('holder_id').references('holders.id'); // whose seals it signs with (a maker: its own holder record, if any)
    t.uuid('maker_id').references('makers.id'); // maker tier: whose applications it files
    t.jsonb('public_jwk').notNullable(); // public only: the private key stays with the client
    t.string('key_alg', 10).notNullable();
    t.integer('rate_limit_per_minute').notNullable();
    t.enu('status', ['active', 'suspended']).notNullable().defaultTo('active');
    t.uuid('created_by').notNullable().references('users.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('suspended_at', { useTz: true });
  });
  await knex.raw(`alter table api_clients add constraint api_clients_tier_scope check (
    (tier = 'maker' and maker_id is not null) or (tier in ('government', 'enterprise') and holder_id is not null and maker_id is null))`);

  await knex.schema.createTable('oauth_assertion_jtis', (t) => {
    t.uuid('client_id').notNullable().references('api_clients.id');
    t.string('jti', 200).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.primary(['client_id', 'jti']);
  });
  await knex.raw('create index oauth_assertion_jtis_expiry on oauth_assertion_jtis (expires_at)');

  await knex.schema.createTable('oauth_access_tokens', (t) => {
    t.string('token_sha256', 64).primary();
    t.uuid('client_id').notNullable().references('api_clients.id');
    t.specificType('scopes', 'text[]').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
  });
  await knex.raw('create index oauth_access_tokens_expiry on oauth_access_tokens (expires_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('oauth_access_tokens');
  await knex.schema.dropTableIfExists('oauth_assertion_jtis');
  await knex.schema.dropTableIfExists('api_clients');
}
