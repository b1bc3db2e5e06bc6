// M5 P1: the application's database login is derived from the owner's URL, and only plain role names pass.
import { applicationUrl, ensureApplicationRole, roleOfUrl } from '../../infra/db-roles';
import type { Db } from '../../infra/db';
import { loadConfig } from '../../infra/config';
import { applicationRole, startPostgres } from '../../infra/services/postgres';

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

  it('M5: the demo password of the application role is only for the embedded server; an external server without DATABASE_APP_PASSWORD is refused naming the key, before anything connects', async () => {
    expect(loadConfig({}).runtime.databaseAppPassword).toBeUndefined();
    expect(applicationRole({ databaseAppUser: 'eseal_app', databaseAppPassword: undefined }, true)).toEqual({ user: 'eseal_app', password: 'eseal-app-local' });
    expect(() => applicationRole({ databaseAppUser: 'eseal_app', databaseAppPassword: undefined }, false)).toThrow(/^DATABASE_APP_PASSWORD is not set/);
    const log = jest.fn();
    for (const env of [{ DATABASE_URL: 'postgres://owner:o@db.example:5432/eseal' }, { DATABASE_OWNER_URL: 'postgres://owner:o@db.example:5432/eseal' }]) {
      await expect(startPostgres(loadConfig(env), log)).rejects.toThrow('DATABASE_APP_PASSWORD');
    }
    expect(log).not.toHaveBeenCalled();
    // With a password of its own, or with the application's own DATABASE_URL beside the owner's, it goes on.
    const withPassword = await startPostgres(loadConfig({ DATABASE_URL: 'postgres://owner:o@db.example:5432/eseal', DATABASE_APP_PASSWORD: 'a-real-secret' }), log);
    expect(withPassword).toMatchObject({ url: 'postgres://eseal_app:a-real-secret@db.example:5432/eseal', ownerUrl: 'postgres://owner:o@db.example:5432/eseal', embedded: false });
    const separate = await startPostgres(loadConfig({ DATABASE_OWNER_URL: 'postgres://owner:o@db.example/eseal', DATABASE_URL: 'postgres://eseal_app:own@db.example/eseal' }), log);
    expect(separate.appRole).toEqual({ user: 'eseal_app', password: 'own' });
    // Too short a password is refused by the configuration, naming the key.
    expect(() => loadConfig({ DATABASE_APP_PASSWORD: 'short' })).toThrow(/DATABASE_APP_PASSWORD/);
  });
});
