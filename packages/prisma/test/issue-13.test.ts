import { readFileSync } from 'node:fs';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { createPostgresDriver, KeyHierarchy, SqlKeyStore } from '@keystrata/core';
import { createDatabase } from '@keystrata/testing';
import { describe, expect, inject, it } from 'vitest';
import { withKeystrata } from '../src/index.js';
import { PrismaClient as PostgresClient } from './generated/postgresql/client/client.js';
import { fieldMap } from './generated/postgresql/keystrata/index.js';
import { openTestRootKey } from './support/stacks.js';

const tablesIn = async (sql: pg.Client, schema: string): Promise<string[]> =>
  (await sql.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema])).rows.map((r) => r.table_name);

/** What `prisma migrate reset` (and `db push --force-reset`) do to the schema Prisma manages on PostgreSQL. */
const resetPrismaSchema = async (sql: pg.Client): Promise<void> => {
  await sql.query('DROP SCHEMA public CASCADE');
  await sql.query('CREATE SCHEMA public');
};

describe('issue 13 (Prisma Migrate and the key tables)', () => {
  it('issue 13 §1: with the key store in schema "keystrata", Prisma\'s schema holds only its own tables, and a reset of it leaves every key', async () => {
    const url = await createDatabase(inject('postgresUrl'), 'keystrata_prisma_i13');
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    const rootKey = await openTestRootKey();
    const cmkLabelPrefix = `prisma-i13-${Math.random().toString(36).slice(2)}`;
    try {
      await sql.query(readFileSync(new URL('./migrations/postgresql.sql', import.meta.url), 'utf8'));
      const appTables = await tablesIn(sql, 'public');
      const keystrata = await KeyHierarchy.create({ rootKey, keyStore: new SqlKeyStore(await createPostgresDriver({ database: url, schema: 'keystrata' })), cmkLabelPrefix });
      await keystrata.provision();
      const db = withKeystrata(new PostgresClient({ adapter: new PrismaPg({ connectionString: url }) }), { keystrata, fieldMap, segment: { by: 'tenant', field: 'tenantId' } });
      const user = await db.user.create({ data: { tenantId: 'acme', email: 'canary-i13@example.test', name: 'CANARY-NAME' } });
      expect((await db.user.findFirst({ where: { email: 'canary-i13@example.test' } }))?.id).toBe(user.id);
      await db.$disconnect();

      // What Prisma Migrate compares against schema.prisma: the app's tables and nothing else.
      expect(await tablesIn(sql, 'public')).toEqual(appTables);
      expect((await tablesIn(sql, 'keystrata')).filter((t) => t.startsWith('keystrata_'))).toEqual(expect.arrayContaining(['keystrata_cmk', 'keystrata_dek', 'keystrata_kek', 'keystrata_audit']));
      const [stored] = (await sql.query<{ email: string }>('SELECT email FROM "User"')).rows;
      expect(stored!.email).toMatch(/^ks1\./);

      // A reset drops and recreates Prisma's schema: the data goes (restore it from a backup), the keys stay.
      await resetPrismaSchema(sql);
      keystrata.clearCache();
      const context = { model: 'User', field: 'email', recordId: user.id, segment: 'tenantId:acme' };
      expect(await keystrata.decryptValue(stored!.email, context)).toBe('canary-i13@example.test');
      await keystrata.close();
      const reopened = await KeyHierarchy.create({ rootKey: await openTestRootKey(), keyStore: new SqlKeyStore(await createPostgresDriver({ database: url, schema: 'keystrata' })), cmkLabelPrefix });
      expect(await reopened.decryptValue(stored!.email, context)).toBe('canary-i13@example.test');
      await reopened.close();
    } finally {
      await sql.end();
    }
  });
});
