// One knex instance per process; migrations are TypeScript files under migrations/.
import path from 'node:path';
import knex, { type Knex } from 'knex';

export type Db = Knex;

export function createDb(databaseUrl: string, pool = { min: 0, max: 10 }): Db {
  return knex({
    client: 'pg',
    connection: { connectionString: databaseUrl, application_name: 'eseal' },
    pool,
    migrations: {
      directory: path.resolve(__dirname, '../migrations'),
      loadExtensions: ['.ts'],
      tableName: 'knex_migrations',
    },
  });
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}
