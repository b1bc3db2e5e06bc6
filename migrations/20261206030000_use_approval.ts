// 三(四) 使用流程: a holder may require, per seal, that each use be approved by named staff (its own accounts).
// `seal_use_approvers` names them (a seal with at least one current approver requires approval);
// `seal_use_requests` is the read model of each request's workflow (`use-approval:<id>`): the holder's
// approval queue. The register names the request a signature used.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('seal_use_approvers', (t) => {
    t.uuid('id').primary();
    t.uuid('seal_id').notNullable().references('seals.id');
    t.uuid('user_id').notNullable().references('users.id');
    t.uuid('added_by').notNullable().references('users.id');
    t.timestamp('added_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('removed_at', { useTz: true });
  });
  await knex.raw('create unique index seal_use_approvers_current on seal_use_approvers (seal_id, user_id) where removed_at is null');

  await knex.schema.createTable('seal_use_requests', (t) => {
    t.uuid('id').primary(); // workflow `use-approval:<id>`
    t.uuid('seal_id').notNullable().references('seals.id');
    t.uuid('holder_id').notNullable().references('holders.id');
    t.text('purpose').notNullable();
    t.string('document_type', 32).notNullable();
    t.text('document_name').notNullable();
    t.string('document_sha256', 64).notNullable();
    t.uuid('requested_by').notNullable().references('users.id');
    t.jsonb('approver_ids').notNullable(); // the approvers named when it was asked (only they decide)
    t.string('status', 16).notNullable(); // pending | approved | rejected | lapsed | used
    t.timestamp('due_at', { useTz: true }).notNullable();
    t.uuid('decided_by').references('users.id');
    t.timestamp('decided_at', { useTz: true });
    t.text('reason');
    t.timestamp('lapsed_at', { useTz: true });
    t.uuid('register_id'); // the signature that used it (its use register entry's id)
    t.timestamp('used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['holder_id', 'status', 'due_at']);
  });
  await knex.raw(`alter table seal_use_requests
    add constraint seal_use_requests_status check (status in ('pending', 'approved', 'rejected', 'lapsed', 'used')),
    add constraint seal_use_requests_sha256 check (document_sha256 ~ '^[0-9a-f]{64}$')`);

  await knex.schema.alterTable('seal_use_register', (t) => {
    t.uuid('use_request_id').references('seal_use_requests.id'); // the approved request this signature used
  });
  await knex.raw('create unique index seal_use_register_one_use on seal_use_register (use_request_id) where use_request_id is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists seal_use_register_one_use');
  await knex.schema.alterTable('seal_use_register', (t) => {
    t.dropColumn('use_request_id');
  });
  await knex.schema.dropTableIfExists('seal_use_requests');
  await knex.schema.dropTableIfExists('seal_use_approvers');
}
