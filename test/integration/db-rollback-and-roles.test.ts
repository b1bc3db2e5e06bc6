// P1 M5 on a scratch database of the test server (own name, dropped at the end): rolling back personal data
// at rest is refused while anything encrypted exists, and the application's role is set up with nothing
// beyond reading and writing rows — or start-up refuses, naming the statement that fixes it.
import { randomUUID } from 'node:crypto';
import { createDb, migrateToLatest, type Db } from '../../infra/db';
import { ensureApplicationRole } from '../../infra/db-roles';
import { ownerDb } from '../helpers/owner-db';

const P1_MIGRATION = '20261128040000_personal_data_at_rest.ts';
const suffix = randomUUID().slice(0, 8);
const database = `eseal_scratch_${suffix}`;
const appUser = `eseal_app_${suffix}`;
const helperRole = `eseal_helper_${suffix}`;

let admin: Db;
let scratch: Db;

const applied = async () => (await scratch('knex_migrations').orderBy('id').pluck('name')) as string[];

/** Rolls back one migration at a time down to (and including) the P1 one; the error of the first refusal, if any. */
async function rollBackPastPersonalData(): Promise<Error | null> {
  while ((await applied()).includes(P1_MIGRATION)) {
    try {
      await scratch.migrate.down();
    } catch (e) {
      return e as Error;
    }
  }
  return null;
}

beforeAll(async () => {
  admin = ownerDb();
  await admin.raw(`create database ${database} encoding 'UTF8'`);
  const url = new URL(process.env.DATABASE_OWNER_URL!);
  url.pathname = `/${database}`;
  scratch = createDb(url.toString(), { min: 0, max: 2 });
  await migrateToLatest(scratch);
}, 120_000);

afterAll(async () => {
  await scratch?.destroy();
  await admin?.raw(`drop database if exists ${database} with (force)`);
  await admin?.raw(`drop role if exists ${appUser}`);
  await admin?.raw(`drop role if exists ${helperRole}`);
  await admin?.destroy();
});

describe('P1: rolling back personal data at rest never loses the keys', () => {
  it('P1: with an encrypted ID number stored (any format version), the rollback is refused naming it, and nothing is dropped', async () => {
    const keeper = randomUUID();
    // Replica mode skips the foreign keys: the value alone is what the rollback must notice.
    await scratch.transaction(async (trx) => {
      await trx.raw('set local session_replication_role = replica');
      await trx('seal_keepers').insert({ id: keeper, seal_id: randomUUID(), name: '张三', id_number: 'pd7:00000000-0000-0000-0000-000000000000:AAAA' });
    });
    const error = await rollBackPastPersonalData();
    expect(error?.message).toMatch(/P1: refusing to roll back personal data at rest: 1 encrypted value\(s\) in seal_keepers\.id_number/);
    expect(await applied()).toContain(P1_MIGRATION);
    expect(await scratch('seal_keepers').where({ id: keeper }).first('id_number')).toEqual({ id_number: 'pd7:00000000-0000-0000-0000-000000000000:AAAA' });
    await scratch('seal_keepers').where({ id: keeper }).delete();
  });

  it('P1: with nothing encrypted the rollback goes through, and the schema migrates up again', async () => {
    expect(await rollBackPastPersonalData()).toBeNull();
    expect(await scratch.schema.hasTable('personal_data_keys')).toBe(false);
    await migrateToLatest(scratch);
    expect(await applied()).toContain(P1_MIGRATION);
  }, 60_000);

  it('P1: with a wrapped key stored, the rollback is refused and the key stays', async () => {
    const id = randomUUID();
    await scratch('personal_data_keys').insert({ id, purpose: 'data', kek_label: 'eseal-personal-data-kek', wrapped_key: Buffer.alloc(40, 1) });
    const error = await rollBackPastPersonalData();
    expect(error?.message).toMatch(/P1: refusing to roll back personal data at rest: 1 wrapped key\(s\) in personal_data_keys.*could never be decrypted again/);
    expect(await scratch('personal_data_keys').where({ id }).first('id')).toEqual({ id });
  });
});

describe('M5: the application role can do no more than the application needs', () => {
  const role = { user: appUser, password: 'scratch-password' };
  const appDb = () => {
    const url = new URL(process.env.DATABASE_OWNER_URL!);
    url.pathname = `/${database}`;
    url.username = appUser;
    url.password = role.password;
    return createDb(url.toString(), { min: 0, max: 1 });
  };

  it('M5: CREATE on schema public is taken from PUBLIC and the role (PostgreSQL 14 and older grant it), so no function can shadow a name the owner resolves', async () => {
    await scratch.raw('grant create on schema public to public');
    await ensureApplicationRole(scratch, role);
    const app = appDb();
    try {
      expect((await app.raw(`select has_schema_privilege('public', 'CREATE') as c, has_database_privilege(current_database(), 'CREATE') as d`)).rows[0]).toEqual({ c: false, d: false });
      await expect(app.raw('create function lower(text) returns text language sql as $$ select $1 $$')).rejects.toThrow(/permission denied for schema public/);
    } finally {
      await app.destroy();
    }
  });

  it('M5: the audit tables, wrapped keys, video access log and archive tombstones take only SELECT and INSERT; the audit chain head only moves forward', async () => {
    const app = appDb();
    try {
      const { rows } = await app.raw(
        `select t as "table", has_table_privilege(t, 'INSERT') as insert, has_table_privilege(t, 'UPDATE') as update, has_table_privilege(t, 'DELETE') as delete, has_table_privilege(t, 'TRUNCATE') as truncate
         from unnest(?::text[]) as t order by 1`,
        [['archive_tombstones', 'audit_chain_head', 'audit_entries', 'audit_heads', 'personal_data_keys', 'video_access_log', 'video_segments']],
      );
      const appendOnly = { insert: true, update: false, delete: false, truncate: false };
      expect(Object.fromEntries(rows.map(({ table, ...privileges }: { table: string }) => [table, privileges]))).toEqual({
        archive_tombstones: appendOnly,
        audit_chain_head: { insert: true, update: true, delete: false, truncate: false },
        audit_entries: appendOnly,
        audit_heads: appendOnly,
        personal_data_keys: appendOnly,
        video_access_log: appendOnly,
        // A segment's state (legal hold, erasure) is updated in place, legitimately; its own trigger guards how.
        video_segments: expect.objectContaining({ insert: true, update: true, truncate: false }),
      });
      await expect(app('personal_data_keys').delete()).rejects.toThrow(/permission denied for table personal_data_keys/);
    } finally {
      await app.destroy();
    }
  });

  it('M5: a role that is a member of another role (it could SET ROLE to it) is refused at start-up, naming the REVOKE that fixes it', async () => {
    await admin.raw(`create role ${helperRole} nologin`);
    await admin.raw(`grant ${helperRole} to ${appUser}`);
    await expect(ensureApplicationRole(scratch, role)).rejects.toThrow(`REVOKE "${helperRole}" FROM "${appUser}";`);
    await admin.raw(`revoke ${helperRole} from ${appUser}`);
    await expect(ensureApplicationRole(scratch, role)).resolves.toBeUndefined();
  });
});
