// M5 P1: the application's database login is derived from the owner's URL, and only plain role names pass.
import { applicationUrl, ensureApplicationRole, roleOfUrl } from '../../infra/db-roles';
import type { Db } from '../../infra/db';

describe('M5: the application role', () => {
  it('M5: the application connects to the same server and database as the owner, under its own role; the password survives URL encoding', () => {
    const url = applicationUrl('postgres://postgres:secret@db.example:5432/eseal?sslmode=require', { user: 'eseal_app', password: 'p@ss:w/rd?' });
    expect(url).toBe('postgres://eseal_app:p%40ss%3Aw%2Frd%3F@db.example:5432/eseal?sslmode=require');
    expect(roleOfUrl(url)).toEqual({ user: 'eseal_app', password: 'p@ss:w/rd?' });
  });

  it('M5: a role name that is not a plain identifier, or no password, is refused before anything reaches the database', async () => {
    const db = (() => {
      throw new Error('no database call expected');
    }) as unknown as Db;
    await expect(ensureApplicationRole(db, { user: 'eseal"; drop role x; --', password: 'long-enough' })).rejects.toThrow('DATABASE_APP_USER');
    await expect(ensureApplicationRole(db, { user: 'eseal_app', password: '' })).rejects.toThrow('DATABASE_APP_PASSWORD');
  });
});
