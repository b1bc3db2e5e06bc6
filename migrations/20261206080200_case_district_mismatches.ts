// P3: where a case's district disagrees with the holder's registered address or with the USCC's registration
// authority, the case says so (flagged on the officer's tasks); null when both agree or say nothing.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cases', (t) => {
    t.jsonb('district_mismatches');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cases', (t) => t.dropColumn('district_mismatches'));
}
