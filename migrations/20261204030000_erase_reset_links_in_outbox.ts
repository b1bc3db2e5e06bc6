// C3 / secrets at rest (issue 10.7): reset-link messages written before links were handed over by the
// approving officer carried the one-time token in clear. Their links are erased (the notice stays); a keeper
// who had not used one applies again.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    `update outbox_messages set body = regexp_replace(body, '/api/password-reset/[A-Za-z0-9_-]+', '/api/password-reset/(erased)', 'g')
      where kind = 'password_reset_link' and body ~ '/api/password-reset/[A-Za-z0-9_-]{20,}'`,
  );
}

export async function down(): Promise<void> {
  // Nothing to restore: the tokens are gone by design.
}
