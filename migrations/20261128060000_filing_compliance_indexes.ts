// The supervisors' compliance page (I1) reads a window of filings by when their deadline started (index-only:
// the columns it aggregates are included), and, for the overdue series, the filings filed late (a small
// partial index; the unfiled overdue ones are in filing_deadlines_overdue). Not usable by the dashboard's
// "overdue now" queries, which keep their own index.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index if not exists filing_deadlines_window on filing_deadlines (started_at) include (maker_id, due_at, first_filed_at)');
  await knex.raw('create index if not exists filing_deadlines_filed_late on filing_deadlines (first_filed_at) where overdue_at is not null and first_filed_at is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists filing_deadlines_window');
  await knex.raw('drop index if exists filing_deadlines_filed_late');
}
