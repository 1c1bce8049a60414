import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { inject } from 'vitest';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { createDatabase } from '@keystrata/testing';
import { createPostgresDriver, createSqliteDriver, KeyHierarchy, Pkcs11RootKey, SqlKeyStore, type KeyStore } from '@keystrata/core';
import { withKeystrata, type FieldMap, type KeystrataPrismaOptions, type WithKeystrata } from '../../src/index.js';
import { PrismaClient as SqliteClient } from '../generated/sqlite/client/client.js';
import { PrismaClient as PostgresClient } from '../generated/postgresql/client/client.js';
import { fieldMap as sqliteMap } from '../generated/sqlite/keystrata/index.js';
import { fieldMap as postgresMap } from '../generated/postgresql/keystrata/index.js';
import { postgresRaw, sqliteRaw, type RawDb } from './raw.js';
import { postgresFiles, sqliteFiles } from '../../../testing/src/canary-files.js';

/** The generated client (both providers generate the same models; typed as the SQLite one). */
type Base = SqliteClient;
/** The extended client. */
export type Db = WithKeystrata<Base>;

/** One test's world: database, key store in the same database, SoftHSM2 root key, clients. */
export interface Stack {
  readonly name: 'sqlite' | 'postgresql';
  readonly base: Base;
  readonly db: Db;
  readonly hierarchy: KeyHierarchy;
  readonly rootKey: Pkcs11RootKey;
  readonly raw: RawDb;
  readonly fieldMap: FieldMap;
  /** The database's files to search for plaintext (SQLite file, -wal, -journal; PostgreSQL heap, indexes and WAL after a CHECKPOINT). */
  databaseFiles(tables: readonly string[]): Promise<string[]>;
  /** Another extended client over the same base, with other options. */
  extend(options?: Partial<KeystrataPrismaOptions>): Db;
  close(): Promise<void>;
}

/** A root key on the run's SoftHSM2 token. */
export function openTestRootKey(): Promise<Pkcs11RootKey> {
  const token = inject('softhsm');
  return Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
}

async function assemble(name: Stack['name'], base: Base, keyStore: KeyStore, raw: RawDb, fieldMap: FieldMap, databaseFiles: Stack['databaseFiles']): Promise<Stack> {
  const rootKey = await openTestRootKey();
  const cmkLabelPrefix = `prisma-test-${Math.random().toString(36).slice(2)}`;
  const hierarchy = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix });
  await hierarchy.provision();
  const extend = (options: Partial<KeystrataPrismaOptions> = {}) => withKeystrata(base, { hierarchy, fieldMap, segment: { by: 'tenant', field: 'tenantId' }, ...options });
  return {
    name,
    base,
    db: extend(),
    hierarchy,
    rootKey,
    raw,
    fieldMap,
    extend,
    databaseFiles,
    async close() {
      await base.$disconnect();
      await hierarchy.close();
      await raw.close();
    },
  };
}

/** SoftHSM2 + a fresh SQLite file holding the tables and the key store. */
async function sqliteStack(): Promise<Stack> {
  const file = join(mkdtempSync(join(tmpdir(), 'keystrata-prisma-')), 'data.db');
  const setup = new Database(file);
  setup.exec(readFileSync(new URL('../migrations/sqlite.sql', import.meta.url), 'utf8'));
  setup.close();
  const base = new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
  return assemble('sqlite', base, keyStore, sqliteRaw(file), sqliteMap, async () => sqliteFiles(file));
}

/** SoftHSM2 + a fresh PostgreSQL database holding the tables and the key store. */
async function postgresStack(): Promise<Stack> {
  const url = await createDatabase(inject('postgresUrl'), 'keystrata_prisma');
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query(readFileSync(new URL('../migrations/postgresql.sql', import.meta.url), 'utf8'));
  await setup.end();
  const base = new PostgresClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as Base;
  const keyStore = new SqlKeyStore(await createPostgresDriver({ database: url }));
  return assemble('postgresql', base, keyStore, await postgresRaw(url), postgresMap, (tables) => postgresFiles(url, tables));
}

/** Both stacks, for `describe.each`. */
export const STACKS = [
  ['sqlite', sqliteStack],
  ['postgresql', postgresStack],
] as const;
