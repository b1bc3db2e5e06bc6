// M4: the keys of personal data move to the web token's KEK (infra/crypto/kek-move.ts). A row may change only
// that way: the same id, purpose and creation time, under another KEK. Deleting a row, or any other change,
// stays refused (losing a wrapped key loses everything it encrypted). The application role has no UPDATE
// on the table anyway: only provisioning, as the owner, moves keys.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function personal_data_keys_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and new.id = old.id and new.purpose = old.purpose and new.created_at = old.created_at
         and new.kek_label <> old.kek_label then
        return new;
      end if;
      raise exception 'P1: personal data keys are never changed or deleted (% refused)', tg_op using errcode = 'P0001';
    end $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function personal_data_keys_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'P1: personal data keys are never changed or deleted (% refused)', tg_op using errcode = 'P0001';
    end $$`);
}
