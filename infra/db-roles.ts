// Least privilege in the database (P1, M5): migrations run as the owner; workers and the web server connect
// as the application's role, which can read and write rows but owns nothing, so it cannot alter tables,
// switch triggers off or run migrations, and holds only SELECT and INSERT on the record tables (those
// carrying the M5 append-only trigger, see migrations/20261128030000_append_only_records.ts).
import type { Db } from './db';

export interface AppRole {
  user: string;
  password: string;
}

/** The trigger that marks a table as a record table. */
export const APPEND_ONLY_TRIGGER = 'zzz_m5_append_only';

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** postgres://owner:…@host/db → the same server and database as the application's role. */
export function applicationUrl(ownerUrl: string, role: AppRole): string {
  const u = new URL(ownerUrl);
  u.username = encodeURIComponent(role.user);
  u.password = encodeURIComponent(role.password);
  return u.toString();
}

export function roleOfUrl(url: string): AppRole {
  const u = new URL(url);
  return { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

/** The record tables of the current schema: every table with the M5 append-only trigger. */
export async function recordTables(db: Db): Promise<string[]> {
  const { rows } = await db.raw(
    `select distinct c.relname as name from pg_trigger t join pg_class c on c.oid = t.tgrelid
     join pg_namespace n on n.oid = c.relnamespace where t.tgname = ? and n.nspname = current_schema() order by 1`,
    [APPEND_ONLY_TRIGGER],
  );
  return rows.map((r: { name: string }) => r.name);
}

/**
 * Creates the application's role if it is missing (keeping its password in step with the configuration when
 * the owner may), and grants it what the application needs on every table; run by the owner after every
 * migration, so tables added later are covered too.
 */
export async function ensureApplicationRole(owner: Db, role: AppRole): Promise<void> {
  if (!ROLE_NAME.test(role.user)) throw new Error(`DATABASE_APP_USER: "${role.user}" is not a plain PostgreSQL role name`);
  if (!role.password) throw new Error('DATABASE_APP_PASSWORD: the application role needs a password');
  const { rows: me } = await owner.raw(
    'select current_user as name, current_database() as db, current_schema() as schema, r.rolsuper or r.rolcreaterole as can_manage from pg_roles r where r.rolname = current_user',
  );
  const { name: ownerName, db: database, schema, can_manage: canManage } = me[0] as { name: string; db: string; schema: string; can_manage: boolean };
  // The whole point is a role that owns nothing; the owner's own name would make it the owner again.
  if (ownerName === role.user) throw new Error(`The application role "${role.user}" must not be the database owner (DATABASE_OWNER_URL)`);
  const exists = (await owner.raw('select 1 from pg_roles where rolname = ?', [role.user])).rows.length > 0;
  if (!exists && !canManage) {
    throw new Error(
      `The database owner "${ownerName}" may not create the application role "${role.user}": create it (LOGIN, with DATABASE_APP_PASSWORD) or give DATABASE_OWNER_URL and the application's DATABASE_URL`,
    );
  }
  if (!exists) {
    await owner.raw(`create role ${ident(role.user)} login nosuperuser nocreatedb nocreaterole noinherit password ${literal(role.password)}`);
  } else if (canManage) {
    await owner.raw(`alter role ${ident(role.user)} with login nosuperuser nocreatedb nocreaterole password ${literal(role.password)}`);
  }
  const app = ident(role.user);
  const records = await recordTables(owner);
  await owner.transaction(async (trx) => {
    await trx.raw(`grant connect on database ${ident(database)} to ${app}`);
    await trx.raw(`grant usage on schema ${ident(schema)} to ${app}`);
    await trx.raw(`grant select, insert, update, delete on all tables in schema ${ident(schema)} to ${app}`);
    await trx.raw(`grant usage, select on all sequences in schema ${ident(schema)} to ${app}`);
    // Only the owner migrates; the application may see which migrations ran (readiness, diagnostics).
    for (const t of ['knex_migrations', 'knex_migrations_lock']) await trx.raw(`revoke insert, update, delete on ${ident(t)} from ${app}`);
    for (const t of records) await trx.raw(`revoke update, delete, truncate on ${ident(t)} from ${app}`);
  });
}
