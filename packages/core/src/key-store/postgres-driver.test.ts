import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { KeystrataError } from '../errors/keystrata-error.js';
import { createPostgresDriver } from './postgres-driver.js';

const codeOf = (work: Promise<unknown>): Promise<string> =>
  work.then(
    () => 'none',
    (error: unknown) => (KeystrataError.isInstance(error) ? error.code : 'untyped'),
  );

describe('createPostgresDriver schema option', () => {
  it('issue 13 §1: schema must be a plain identifier and needs a connection string (never a shared Pool whose search_path it would change)', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    try {
      expect(await codeOf(createPostgresDriver({ database: pool, schema: 'keystrata' }))).toBe('CONFIG_INVALID');
      for (const schema of ['', 'Keystrata', 'key-strata', 'a;drop table x', 'x'.repeat(64), 7 as unknown as string]) {
        expect(await codeOf(createPostgresDriver({ database: 'postgres://nobody@127.0.0.1:1/none', schema })), String(schema)).toBe('CONFIG_INVALID');
      }
      const driver = await createPostgresDriver({ database: 'postgres://nobody@127.0.0.1:1/none', schema: 'keystrata' });
      await driver.close();
    } finally {
      await pool.end();
    }
  });
});
