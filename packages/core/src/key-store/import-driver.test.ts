import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { KeystrataError } from '../errors/keystrata-error.js';
import { importDriver } from './import-driver.js';
import { createPostgresDriver } from './postgres-driver.js';
import { createSqliteDriver } from './sqlite-driver.js';

describe('optional database drivers', () => {
  it('issue 13 §1: a driver package that is not installed is CONFIG_INVALID naming the package to install', async () => {
    const error = await importDriver(() => import('keystrata-no-such-driver' as string), 'keystrata-no-such-driver', 'PostgreSQL').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(KeystrataError.isInstance(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as KeystrataError).message).toMatch(/needs the package keystrata-no-such-driver, which is not installed\. Install it in your application: npm install keystrata-no-such-driver/);
  });

  it('passes through any other failure of the driver (a missing module it loads is not the driver missing)', async () => {
    const cause = Object.assign(new Error("Cannot find package 'pg-native'"), { code: 'ERR_MODULE_NOT_FOUND' });
    await expect(importDriver(() => Promise.reject(cause), 'pg', 'PostgreSQL')).rejects.toBe(cause);
  });

  it('issue 13 §1: the structural driver types accept a real better-sqlite3 Database and pg Pool', async () => {
    const database = new Database(':memory:');
    const sqlite = await createSqliteDriver({ database });
    expect(await sqlite.all<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await sqlite.close();
    database.close();
    const pool = new pg.Pool({ connectionString: 'postgres://keystrata@127.0.0.1:9/none' });
    const postgres = await createPostgresDriver({ database: pool });
    expect(postgres.dialect).toBe('postgres');
    await postgres.close();
    await pool.end();
  });
});
