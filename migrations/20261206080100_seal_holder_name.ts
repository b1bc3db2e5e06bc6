// M11: a holder's name change replaces its live seals; the seals made under the old name keep it. The holder's
// row carries the current name; a seal's own `holder_name` is the name it was made under, written when the
// name changes (null: the holder's current name).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('seals', (t) => {
    t.string('holder_name', 200);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('seals', (t) => t.dropColumn('holder_name'));
}
