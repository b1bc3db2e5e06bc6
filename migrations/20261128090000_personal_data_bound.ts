// P1 follow-up: encrypted values are bound to their place (infra/crypto/place.ts) and files are encrypted as
// chunked streams (infra/crypto/stream.ts). `materials.blob_format` says which files are in the current format
// ('pd2': chunked, bound to the holder), so that the backfill finds older files (clear, or 'ESPD1' under the
// fixed label) without reading every file of the store. Null: written before this migration.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('materials', (t) => {
    t.string('blob_format', 8);
  });
  await knex.raw(`create index materials_blob_format_old on materials (blob_sha256) where blob_format is null`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists materials_blob_format_old');
  await knex.schema.alterTable('materials', (t) => t.dropColumn('blob_format'));
}
