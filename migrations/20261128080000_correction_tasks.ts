// M5 (issue 6): a production-data correction awaiting approval is a task in its district's officer queue,
// decided through its own workflow (workflows/correction-approval.ts) rather than the case's.
//   tasks.workflow_id  the workflow that decides the task (null: the case's own workflow, as before)
//   tasks.record_id    the correction version the task is about; at most one task per correction
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.string('workflow_id');
    t.uuid('record_id').references('production_records.id');
  });
  await knex.raw('create unique index tasks_record_id on tasks (record_id) where record_id is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists tasks_record_id');
  await knex.schema.alterTable('tasks', (t) => t.dropColumns('workflow_id', 'record_id'));
}
