// Application to issue (S1–S3, A1–A4, M1–M4, M9, M10, M13): cases, their seals, materials, human
// tasks, police filings with their deadlines, the unclaimed ledger, documents and the case timeline.
// Workflows own the state; these tables are what the regulation says must be kept plus the read model.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('holders', (t) => {
    t.string('legal_representative');
    t.date('registration_date');
    t.boolean('has_superior').notNullable().defaultTo(false);
    // A3: holders received from the market-regulation registration feed need no materials.
    t.enu('source', ['maker', 'market_regulation']).notNullable().defaultTo('maker');
    t.boolean('pre_verified').notNullable().defaultTo(false);
  });

  await knex.schema.createTable('cases', (t) => {
    t.uuid('id').primary();
    t.uuid('maker_id').notNullable().references('makers.id');
    t.uuid('holder_id').notNullable().references('holders.id');
    t.string('district_code', 6).notNullable().references('districts.code'); // P3: the holder's district
    t.string('status').notNullable();
    t.text('status_reason');
    t.jsonb('missing_materials').notNullable().defaultTo('[]');
    t.boolean('newly_established_organ').notNullable().defaultTo(false);
    t.string('language').notNullable();
    t.string('handler_name').notNullable();
    t.string('handler_id_number', 18).notNullable();
    t.string('handler_phone').notNullable();
    t.jsonb('production_data');
    t.uuid('on_site_image_id');
    t.string('idempotency_key');
    t.uuid('created_by').notNullable().references('users.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['maker_id', 'idempotency_key']);
    t.index(['district_code', 'status']);
    t.index(['maker_id', 'status']);
  });

  await knex.schema.createTable('seals', (t) => {
    t.uuid('id').primary();
    t.uuid('case_id').notNullable().unique().references('cases.id');
    t.uuid('holder_id').notNullable().references('holders.id');
    t.string('kind').notNullable();
    t.integer('number'); // business-purpose seals: 合同专用章(1), (2) …
    t.string('text').notNullable();
    t.string('person_name');
    t.string('person_role');
    t.string('person_id_number', 18);
    t.string('status').notNullable(); // in_production → ready → active | cancelled (domain/seals.ts)
    t.string('seal_code', 13).unique(); // district code + 7-digit sequence
    t.binary('public_key_spki');
    t.string('certificate_serial');
    t.binary('certificate_der');
    t.string('certificate_fingerprint', 64);
    t.text('imprint_svg');
    t.binary('imprint_png');
    t.string('imprint_sha256', 64);
    t.uuid('imprint_statement_id').references('platform_statements.id');
    t.timestamp('produced_at', { useTz: true });
    t.timestamp('ready_at', { useTz: true });
    t.timestamp('unclaimed_due_at', { useTz: true });
    t.timestamp('collected_at', { useTz: true });
    t.timestamp('cancelled_at', { useTz: true });
    t.string('cancellation_reason');
    t.timestamp('revoked_at', { useTz: true });
    t.string('revocation_reason');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['holder_id', 'kind']);
  });
  // A1, enforced by the database so that racing applications cannot both pass.
  await knex.raw(`create unique index seals_one_live_legal_name on seals (holder_id)
    where kind = 'legal_name' and status <> 'cancelled'`);
  await knex.raw(`create unique index seals_business_number on seals (holder_id, kind, number) where number is not null`);

  await knex.schema.createTable('seal_code_sequences', (t) => {
    t.string('district_code', 6).primary().references('districts.code');
    t.bigInteger('last_value').notNullable();
  });

  // Per-seal private keys, wrapped inside the HSM under a non-extractable AES key (see README: key storage).
  await knex.schema.createTable('seal_keys', (t) => {
    t.uuid('seal_id').primary().references('seals.id');
    t.string('wrapping_key_label').notNullable();
    t.binary('wrapped_private_key'); // null once destroyed
    t.binary('public_key_spki').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('destroyed_at', { useTz: true });
  });

  await knex.schema.createTable('blobs', (t) => {
    t.string('sha256', 64).primary();
    t.string('content_type').notNullable();
    t.integer('size').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('materials', (t) => {
    t.uuid('id').primary();
    t.uuid('case_id').notNullable().references('cases.id');
    t.string('kind').notNullable();
    t.string('original_name').notNullable();
    t.string('blob_sha256', 64).notNullable().references('blobs.sha256');
    t.uuid('uploaded_by').notNullable().references('users.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['case_id']);
  });

  await knex.schema.createTable('tasks', (t) => {
    t.uuid('id').primary();
    t.string('kind').notNullable(); // establishment_approval | filing_review | cancellation_filing
    t.uuid('case_id').notNullable().references('cases.id');
    t.string('district_code', 6).notNullable().references('districts.code');
    t.string('status').notNullable(); // open | done
    t.uuid('assignee_id').references('users.id');
    t.timestamp('due_at', { useTz: true });
    t.string('decision');
    t.text('reason');
    t.uuid('decided_by').references('users.id');
    t.timestamp('decided_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`create index tasks_open_by_district on tasks (district_code, due_at) where status = 'open'`);

  // M3: each filing deadline, so supervisors see an overdue filing the moment it happens.
  await knex.schema.createTable('filing_deadlines', (t) => {
    t.uuid('case_id').notNullable().references('cases.id');
    t.string('kind').notNullable(); // production | cancellation
    t.string('district_code', 6).notNullable();
    t.uuid('maker_id').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('due_at', { useTz: true }).notNullable();
    t.timestamp('overdue_at', { useTz: true });
    t.timestamp('first_filed_at', { useTz: true });
    t.timestamp('accepted_at', { useTz: true });
    t.primary(['case_id', 'kind']);
  });
  await knex.raw(`create index filing_deadlines_overdue on filing_deadlines (due_at) where overdue_at is not null and first_filed_at is null`);

  await knex.schema.createTable('filings', (t) => {
    t.uuid('id').primary();
    t.uuid('case_id').notNullable().references('cases.id');
    t.string('kind').notNullable();
    t.integer('round').notNullable();
    t.jsonb('data').notNullable();
    t.boolean('late').notNullable();
    t.uuid('task_id').references('tasks.id');
    t.string('status').notNullable(); // submitted | accepted | returned
    t.text('returned_reason');
    t.uuid('submitted_by').references('users.id');
    t.timestamp('submitted_at', { useTz: true }).notNullable();
    t.unique(['case_id', 'kind', 'round']);
  });

  // M9: 登记造册.
  await knex.schema.createTable('unclaimed_ledger', (t) => {
    t.uuid('seal_id').primary().references('seals.id');
    t.uuid('case_id').notNullable().references('cases.id');
    t.string('district_code', 6).notNullable();
    t.timestamp('ready_at', { useTz: true }).notNullable();
    t.timestamp('due_at', { useTz: true }).notNullable();
    t.timestamp('entered_at', { useTz: true }).notNullable();
  });

  // Document numbers 京章制证〔2026〕第000001号 / 京章登证〔…〕: one city-wide sequence per kind.
  await knex.raw('create sequence production_certificate_no');
  await knex.raw('create sequence cancellation_certificate_no');
  await knex.schema.createTable('documents', (t) => {
    t.uuid('id').primary();
    t.uuid('seal_id').notNullable().references('seals.id');
    t.string('kind').notNullable(); // production_certificate | cancellation_certificate
    t.string('document_no').notNullable().unique();
    t.text('html').notNullable();
    t.binary('pdf').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['seal_id', 'kind']);
  });

  // The case timeline; (case_id, event_key) makes every projection idempotent.
  await knex.schema.createTable('case_events', (t) => {
    t.bigIncrements('id');
    t.uuid('case_id').notNullable().references('cases.id');
    t.string('event_key').notNullable();
    t.string('type').notNullable();
    t.jsonb('data').notNullable().defaultTo('{}');
    t.uuid('actor_id');
    t.timestamp('at', { useTz: true }).notNullable();
    t.unique(['case_id', 'event_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['case_events', 'documents', 'unclaimed_ledger', 'filings', 'filing_deadlines', 'tasks', 'materials', 'blobs', 'seal_keys', 'seal_code_sequences', 'seals', 'cases']) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.raw('drop sequence if exists production_certificate_no');
  await knex.raw('drop sequence if exists cancellation_certificate_no');
  await knex.schema.alterTable('holders', (t) => {
    t.dropColumns('legal_representative', 'registration_date', 'has_superior', 'source', 'pre_verified');
  });
}
