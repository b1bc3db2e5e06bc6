// P1, personal data at rest: ID numbers and phones are stored encrypted (infra/crypto/personal-data.ts), in
// the same columns (widened to text for the ciphertext, so the retention erasure guards keep covering them),
// and ID numbers also as a keyed hash (`*_hmac`) for lookups. Data keys are stored wrapped by an HSM key.
// Rows written before this migration are encrypted by the start-up backfill (infra/crypto/backfill.ts).
import type { Knex } from 'knex';

const ENCRYPTED: Record<string, string[]> = {
  cases: ['handler_id_number', 'handler_phone', 'legal_rep_id_number'],
  seals: ['person_id_number'],
  seal_keepers: ['id_number'],
};
const HASHED: Record<string, string[]> = {
  cases: ['handler_id_number', 'legal_rep_id_number'],
  seals: ['person_id_number'],
  seal_keepers: ['id_number'],
};

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('personal_data_keys', (t) => {
    t.uuid('id').primary();
    t.string('purpose').notNullable(); // data (AES-256-GCM) | lookup (the HMAC key of ID numbers)
    t.string('kek_label').notNullable(); // the token key that wraps it
    t.binary('wrapped_key').notNullable(); // CKM_AES_KEY_WRAP_PAD
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`alter table personal_data_keys add constraint personal_data_keys_purpose check (purpose in ('data', 'lookup'))`);
  await knex.raw(`create unique index personal_data_keys_one_lookup on personal_data_keys (purpose) where purpose = 'lookup'`);
  await knex.raw(`create index personal_data_keys_data on personal_data_keys (created_at) where purpose = 'data'`);
  // Losing a wrapped key loses everything it encrypted: rows are only ever added.
  await knex.raw(`
    create function personal_data_keys_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'P1: personal data keys are never changed or deleted (% refused)', tg_op using errcode = 'P0001';
    end $$`);
  await knex.raw('create trigger personal_data_keys_append_only before update or delete on personal_data_keys for each row execute function personal_data_keys_append_only()');
  await knex.raw('create trigger personal_data_keys_no_truncate before truncate on personal_data_keys for each statement execute function personal_data_keys_append_only()');

  for (const [table, columns] of Object.entries(ENCRYPTED)) {
    for (const c of columns) await knex.raw('alter table ?? alter column ?? type text', [table, c]);
  }
  for (const [table, columns] of Object.entries(HASHED)) {
    await knex.schema.alterTable(table, (t) => {
      for (const c of columns) t.string(`${c}_hmac`, 64).index();
    });
  }
  // A keeper is unique per seal by the keyed hash now: the ciphertexts of one ID number all differ.
  await knex.raw('drop index if exists seal_keepers_active');
  await knex.raw('create unique index seal_keepers_active on seal_keepers (seal_id, id_number_hmac) where removed_at is null');
}

/** Any encrypted field, whatever its format version (`pd1:`, `pd2:`, …: infra/crypto/personal-data.ts). */
const ENCRYPTED_VALUE = '^pd[0-9]+:';

/** What rolling back would make unreadable: wrapped keys, and values or files encrypted under them. */
async function encryptedData(knex: Knex): Promise<string[]> {
  const found: string[] = [];
  const keys = await knex.raw('select count(*)::int as n from personal_data_keys');
  if (keys.rows[0].n > 0) found.push(`${keys.rows[0].n} wrapped key(s) in personal_data_keys`);
  for (const [table, columns] of Object.entries(ENCRYPTED)) {
    for (const c of columns) {
      const { rows } = await knex.raw('select count(*)::int as n from ?? where ?? ~ ?', [table, c, ENCRYPTED_VALUE]);
      if (rows[0].n > 0) found.push(`${rows[0].n} encrypted value(s) in ${table}.${c}`);
    }
  }
  const { rows: format } = await knex.raw(`select 1 from information_schema.columns where table_schema = current_schema() and table_name = 'materials' and column_name = 'blob_format'`);
  if (format.length > 0) {
    const { rows } = await knex.raw('select count(*)::int as n from materials where blob_format is not null');
    if (rows[0].n > 0) found.push(`${rows[0].n} encrypted material file(s)`);
  }
  return found;
}

export async function down(knex: Knex): Promise<void> {
  // DROP TABLE fires no row trigger: dropping the wrapped keys would make every encrypted value unreadable forever.
  const found = await encryptedData(knex);
  if (found.length > 0) {
    throw new Error(
      `P1: refusing to roll back personal data at rest: ${found.join(', ')}; without the keys they could never be decrypted again. Decrypt them back in place (or restore a backup from before this migration) first.`,
    );
  }
  await knex.raw('drop index if exists seal_keepers_active');
  await knex.raw('create unique index seal_keepers_active on seal_keepers (seal_id, id_number) where removed_at is null');
  for (const [table, columns] of Object.entries(HASHED)) {
    await knex.schema.alterTable(table, (t) => t.dropColumns(...columns.map((c) => `${c}_hmac`)));
  }
  // The columns stay text: encrypted values do not fit the old varchar(18).
  await knex.schema.dropTableIfExists('personal_data_keys');
  await knex.raw('drop function if exists personal_data_keys_append_only()');
}
