// The supervisors' compliance page (I1) reads a window of filings by when their deadline started, and the
// filings still open at the start of the window (unfiled, or filed after it) for the overdue series.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index if not exists filing_deadlines_started on filing_deadlines (started_at)');
  await knex.raw('create index if not exists filing_deadlines_first_filed on filing_deadlines (first_filed_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists filing_deadlines_started');
  await knex.raw('drop index if exists filing_deadlines_first_filed');
}
