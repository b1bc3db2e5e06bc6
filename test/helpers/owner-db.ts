// The database owner's connection, for tests that show what even the owner cannot do (M5, M6, M7).
// scripts/with-stack.ts gives it to the test run only; workers and the web server never have it.
import { createDb, type Db } from '../../infra/db';

export function ownerDb(): Db {
  const url = process.env.DATABASE_OWNER_URL;
  if (!url) throw new Error('DATABASE_OWNER_URL is not set: run the tests with scripts/with-stack.ts');
  return createDb(url, { min: 0, max: 2 });
}
