// The audit trail (M6, P1): every change and every read of personal data, as a hash chain.
//   audit_entries     one row per event; `hash` = SHA-256 over the entry's seq, `prev_hash` and the hash of
//                     its canonical content (infra/audit/chain.ts), so each entry commits to everything before it.
//   audit_chain_head  one row: the seq and hash of the last entry. audit_append() locks it, chains a batch of
//                     entries onto it and moves it forward, in one statement: appends from any number of
//                     processes queue on that row lock and form one linear, gapless chain (seq is assigned
//                     here, not by a sequence: a sequence leaves gaps on rollback that would look like
//                     removed entries).
//   audit_heads       the chain head signed at intervals with the HSM key `eseal-audit-signing`, so that a
//                     chain rewritten from some entry on (hashes recomputed) no longer matches a signature.
// The tables refuse UPDATE, DELETE and TRUNCATE by trigger (also for the owner); only a superuser who
// switches triggers off can tamper, and `npm run audit:verify` names the first entry affected.
import type { Knex } from 'knex';

const GENESIS = '0'.repeat(64);

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_entries', (t) => {
    t.bigInteger('seq').primary();
    t.timestamp('at', { useTz: true }).notNullable();
    // Who: copied from the user at the time (no foreign keys: the trail outlives what it talks about).
    t.uuid('actor_user_id');
    t.text('actor_username');
    t.text('actor_role');
    t.string('actor_district_code', 6);
    t.uuid('actor_maker_id');
    t.uuid('actor_holder_id');
    // What, on which thing, for which case, from where.
    t.text('action').notNullable();
    t.text('outcome').notNullable();
    t.text('target_type');
    t.text('target_id');
    t.uuid('case_id');
    t.text('client_address');
    t.uuid('request_id');
    t.jsonb('details').notNullable();
    t.specificType('prev_hash', 'char(64)').notNullable();
    t.specificType('hash', 'char(64)').notNullable();
  });
  await knex.raw(`alter table audit_entries
    add constraint audit_entries_seq_positive check (seq > 0),
    add constraint audit_entries_outcome check (outcome in ('ok', 'refused', 'error')),
    add constraint audit_entries_hashes check (prev_hash ~ '^[0-9a-f]{64}$' and hash ~ '^[0-9a-f]{64}$')`);
  // Supervisors search by person, case, action and time (usecases/audit.ts); newest first.
  await knex.raw('create index audit_entries_case on audit_entries (case_id, seq) where case_id is not null');
  await knex.raw('create index audit_entries_user on audit_entries (actor_user_id, seq)');
  await knex.raw('create index audit_entries_username on audit_entries (actor_username, seq)');
  await knex.raw('create index audit_entries_action on audit_entries (action, seq)');
  await knex.raw('create index audit_entries_at on audit_entries (at)');

  await knex.schema.createTable('audit_chain_head', (t) => {
    t.smallint('id').primary();
    t.bigInteger('seq').notNullable();
    t.specificType('hash', 'char(64)').notNullable();
  });
  await knex.raw('alter table audit_chain_head add constraint audit_chain_head_single check (id = 1)');
  await knex('audit_chain_head').insert({ id: 1, seq: 0, hash: GENESIS });

  await knex.schema.createTable('audit_heads', (t) => {
    t.bigInteger('seq').primary(); // the entry whose hash is signed
    t.specificType('hash', 'char(64)').notNullable();
    t.bigInteger('prev_head_seq'); // the head signed before this one, so a removed head is noticed too
    t.timestamp('signed_at', { useTz: true }).notNullable();
    t.text('key_label').notNullable();
    t.specificType('key_fingerprint', 'char(64)').notNullable(); // SHA-256 of the public key's SPKI DER
    t.binary('signature').notNullable(); // DER ECDSA-SHA256 over the canonical head (infra/audit/chain.ts)
  });

  // The single writer order. `entries` is a JSON array of entry contents, each with its body_hash (SHA-256
  // of the canonical content, computed by the writer); the link hash is computed here, under the lock, as
  // SHA-256("eseal-audit/1|<seq>|<prev_hash>|<body_hash>"). Returns each new entry's seq and hash.
  await knex.raw(`
    create function audit_append(entries jsonb) returns table (seq bigint, hash text) language plpgsql as $$
    #variable_conflict use_column
    declare
      head_seq bigint;
      head_hash text;
      prev text;
      n int := jsonb_array_length(entries);
      hashes text[] := '{}';
      body text;
    begin
      if n = 0 then return; end if;
      select c.seq, c.hash into head_seq, head_hash from audit_chain_head c where c.id = 1 for update;
      prev := head_hash;
      for i in 1 .. n loop
        body := entries -> (i - 1) ->> 'body_hash';
        if body is null or body !~ '^[0-9a-f]{64}$' then
          raise exception 'audit_append: entry % has no body_hash', i using errcode = 'invalid_parameter_value';
        end if;
        prev := encode(sha256(convert_to('eseal-audit/1|' || (head_seq + i)::text || '|' || prev || '|' || body, 'UTF8')), 'hex');
        hashes := hashes || prev;
      end loop;
      insert into audit_entries (seq, at, actor_user_id, actor_username, actor_role, actor_district_code, actor_maker_id,
        actor_holder_id, action, outcome, target_type, target_id, case_id, client_address, request_id, details, prev_hash, hash)
      select head_seq + e.ord, (e.v ->> 'at')::timestamptz, (e.v ->> 'actor_user_id')::uuid, e.v ->> 'actor_username',
        e.v ->> 'actor_role', e.v ->> 'actor_district_code', (e.v ->> 'actor_maker_id')::uuid, (e.v ->> 'actor_holder_id')::uuid,
        e.v ->> 'action', e.v ->> 'outcome', e.v ->> 'target_type', e.v ->> 'target_id', (e.v ->> 'case_id')::uuid,
        e.v ->> 'client_address', (e.v ->> 'request_id')::uuid, coalesce(e.v -> 'details', '{}'::jsonb),
        case when e.ord = 1 then head_hash else hashes[e.ord - 1] end, hashes[e.ord]
      from jsonb_array_elements(entries) with ordinality as e(v, ord);
      update audit_chain_head c set seq = head_seq + n, hash = prev where c.id = 1;
      return query select head_seq + g, hashes[g] from generate_series(1, n) as g;
    end $$`);

  // Append-only, for everyone including the owner. (A superuser can still switch triggers off with
  // session_replication_role = replica; that is what the chain and the signed heads are for.)
  await knex.raw(`
    create function audit_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'the audit trail is append-only: % on % refused', tg_op, tg_table_name
        using errcode = 'insufficient_privilege';
    end $$`);
  await knex.raw(`
    create function audit_chain_head_forward() returns trigger language plpgsql as $$
    begin
      if tg_op <> 'UPDATE' or new.id <> old.id or new.seq <= old.seq then
        raise exception 'the audit chain head only moves forward: % refused', tg_op
          using errcode = 'insufficient_privilege';
      end if;
      return new;
    end $$`);
  for (const table of ['audit_entries', 'audit_heads']) {
    await knex.raw(`create trigger ${table}_append_only before update or delete on ${table} for each row execute function audit_refuse_change()`);
    await knex.raw(`create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function audit_refuse_change()`);
  }
  await knex.raw('create trigger audit_chain_head_forward before update or delete on audit_chain_head for each row execute function audit_chain_head_forward()');
  await knex.raw('create trigger audit_chain_head_no_truncate before truncate on audit_chain_head for each statement execute function audit_refuse_change()');
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['audit_heads', 'audit_chain_head', 'audit_entries']) await knex.schema.dropTableIfExists(table);
  await knex.raw('drop function if exists audit_append(jsonb)');
  await knex.raw('drop function if exists audit_chain_head_forward()');
  await knex.raw('drop function if exists audit_refuse_change()');
}
