// The public verification page's "download the report as a PDF signed by the platform" (issue 12, U2 P2): the
// uploaded file is gone once the report is shown, so the report the platform made (never one a client sends
// back) is kept here for a short time, found by the SHA-256 of a random token only the page holds, with the
// PDF rendered (main worker) and signed (HSM worker) by the workflow `verification-report:<id>`. Rows past
// their expiry are deleted whenever a report is kept; nothing uploaded is in them.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('verification_report_copies', (t) => {
    t.uuid('id').primary();
    t.string('token_sha256', 64).unique(); // null: an API request, answered at once and deleted
    t.jsonb('report').notNullable(); // the VerificationReport as the platform made it
    t.jsonb('detached_signature'); // name, size and SHA-256 of the .p7s verified with the file, if any
    t.binary('pdf'); // rendered, not yet signed
    t.binary('signed_pdf');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('verification_report_copies');
}
