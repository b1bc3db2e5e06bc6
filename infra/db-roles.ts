// Least privilege in the database (P1, M5): migrations run as the owner; workers and the web server connect
// as the application's role, which can read and write rows but owns nothing, so it cannot alter tables,
// switch triggers off, create functions or run migrations, and holds only SELECT and INSERT on the record
// tables and the other append-only logs (the triggers refuse changes too; the grants make it two locks).
import type { Db } from './db';

export interface AppRole {
  user: string;
  password: string;
}

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

/**
 * M5 record tables: SELECT and INSERT only. Kept as a list, not read from the trigger, so a record table
 * created without its trigger is still locked down; test/integration/records-append-only.test.ts compares
 * the list with the tables carrying the trigger, so either gap fails the build.
 */
export const RECORD_TABLES: readonly string[] = ['documents', 'filing_decisions', 'filings', 'platform_statements', 'production_record_decisions', 'production_records', 'seal_use_register', 'signed_documents', 'unclaimed_ledger'];

/** Other append-only logs (M6 audit, M8 video access, M7 tombstones, P1 wrapped keys): the application only appends. */
export const APPEND_ONLY_TABLES: readonly string[] = ['archive_tombstones', 'audit_entries', 'audit_heads', 'personal_data_keys', 'video_access_log'];

/** audit_append() (security invoker) moves the chain's head forward with UPDATE; the head is never deleted. */
export const UPDATE_ONLY_TABLES: readonly string[] = ['audit_chain_head'];

/**
 * Creates the application's role if it is missing (keeping its password in step with the configuration when
 * the owner may), and grants it what the application needs on every table; run by the owner after every
 * migration, so tables added later are covered too. Refuses to go on when the role could do more.
 */
export async function ensureApplicationRole(owner: Db, role: AppRole): Promise<void> {
  if (!ROLE_NAME.test(role.user)) throw new Error(`DATABASE_APP_USER: "${role.user}" is not a plain PostgreSQL role name`);
  if (!role.password) throw new Error('DATABASE_APP_PASSWORD: the application role needs a password');
  const { rows: me } = await owner.raw(
    'select current_user as name, current_database() as db, current_schema() as schema, r.rolsuper as super, r.rolsuper or r.rolcreaterole as can_manage from pg_roles r where r.rolname = current_user',
  );
  const { name: ownerName, db: database, schema, super: isSuper, can_manage: canManage } = me[0] as { name: string; db: string; schema: string; super: boolean; can_manage: boolean };
  // The whole point is a role that owns nothing; the owner's own name would make it the owner again.
  if (ownerName === role.user) throw new Error(`The application role "${role.user}" must not be the database owner (DATABASE_OWNER_URL)`);
  const exists = (await owner.raw('select 1 from pg_roles where rolname = ?', [role.user])).rows.length > 0;
  if (!exists && !canManage) {
    throw new Error(
      `The database owner "${ownerName}" may not create the application role "${role.user}": create it (LOGIN, with DATABASE_APP_PASSWORD) or give DATABASE_OWNER_URL and the application's DATABASE_URL`,
    );
  }
  // Only a superuser may name the SUPERUSER, REPLICATION and BYPASSRLS attributes, even to switch them off.
  const superOnly = isSuper ? ' nosuperuser noreplication nobypassrls' : '';
  if (!exists) {
    await owner.raw(`create role ${ident(role.user)} login nocreatedb nocreaterole noinherit${superOnly} password ${literal(role.password)}`);
  } else if (canManage) {
    await owner.raw(`alter role ${ident(role.user)} with login nocreatedb nocreaterole noinherit${superOnly} password ${literal(role.password)}`);
  }
  const app = ident(role.user);
  const schemas = [...new Set([schema, 'public'])];
  await owner.transaction(async (trx) => {
    await trx.raw(`grant connect on database ${ident(database)} to ${app}`);
    await trx.raw(`grant usage on schema ${ident(schema)} to ${app}`);
    // PostgreSQL 14 and older let PUBLIC create in schema public: the application could plant a function or
    // operator there that shadows a name the owner's migrations resolve. (A warning only, if not the schema's owner.)
    for (const s of schemas) {
      if ((await trx.raw('select 1 from pg_namespace where nspname = ?', [s])).rows.length === 0) continue;
      await trx.raw(`revoke create on schema ${ident(s)} from public, ${app}`);
    }
    await trx.raw(`grant select, insert, update, delete on all tables in schema ${ident(schema)} to ${app}`);
    await trx.raw(`grant usage, select on all sequences in schema ${ident(schema)} to ${app}`);
    // Only the owner migrates; the application may see which migrations ran (readiness, diagnostics).
    for (const t of ['knex_migrations', 'knex_migrations_lock']) await trx.raw(`revoke insert, update, delete on ${ident(t)} from ${app}`);
    // Only the tables the schema has now (a database migrated to an earlier version lacks the newer ones).
    const exists = async (t: string) => (await trx.raw('select to_regclass(?) as r', [`${schema}.${t}`])).rows[0].r !== null;
    for (const t of [...RECORD_TABLES, ...APPEND_ONLY_TABLES]) if (await exists(t)) await trx.raw(`revoke update, delete, truncate on ${ident(t)} from ${app}`);
    for (const t of UPDATE_ONLY_TABLES) if (await exists(t)) await trx.raw(`revoke delete, truncate on ${ident(t)} from ${app}`);
  });
  const problems = await roleProblems(owner, role.user, database, schemas);
  if (problems.length > 0) {
    throw new Error(`The application role "${role.user}" may do more than the application needs; as a database administrator:\n  ${problems.join('\n  ')}`);
  }
}

/** What the application's role could do beyond reading and writing rows, each with the statement that fixes it. */
export async function roleProblems(db: Db, user: string, database: string, schemas: string[]): Promise<string[]> {
  const problems: string[] = [];
  const { rows } = await db.raw('select rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls from pg_roles where rolname = ?', [user]);
  const r = rows[0] as Record<string, boolean>;
  const attrs = ['superuser', 'createrole', 'createdb', 'replication', 'bypassrls'].filter((a) => r[`rol${a}`]);
  if (attrs.length) problems.push(`ALTER ROLE ${ident(user)} ${attrs.map((a) => `NO${a.toUpperCase()}`).join(' ')};`);
  // A member of another role may SET ROLE to it (whatever NOINHERIT says) and act with its rights.
  const { rows: memberOf } = await db.raw(
    'select g.rolname as name from pg_auth_members m join pg_roles g on g.oid = m.roleid join pg_roles u on u.oid = m.member where u.rolname = ? order by 1',
    [user],
  );
  for (const { name } of memberOf as Array<{ name: string }>) problems.push(`REVOKE ${ident(name)} FROM ${ident(user)};`);
  if ((await db.raw('select has_database_privilege(?, ?, ?) as ok', [user, database, 'CREATE'])).rows[0].ok) {
    problems.push(`REVOKE CREATE ON DATABASE ${ident(database)} FROM PUBLIC, ${ident(user)};`);
  }
  for (const s of schemas) {
    const { rows: sp } = await db.raw('select has_schema_privilege(?, n.oid, ?) as ok from pg_namespace n where n.nspname = ?', [user, 'CREATE', s]);
    if (sp[0]?.ok) problems.push(`REVOKE CREATE ON SCHEMA ${ident(s)} FROM PUBLIC, ${ident(user)};`);
  }
  return problems;
}
