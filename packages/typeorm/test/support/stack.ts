import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { DataSource } from 'typeorm';
import { createDatabase } from '@keystrata/testing';
import { Pkcs11RootKey } from '@keystrata/core';
import { installKeystrata, type InstallOptions, type KeystrataTypeorm } from '../../src/index.js';
import { ENTITIES } from './entities.js';
import { openRawDb, type RawDb } from './raw-db.js';

export type Kind = 'sqlite' | 'postgres';
export const KINDS: readonly Kind[] = ['sqlite', 'postgres'];

/** A DataSource with Keystrata installed, its root key, and raw driver access to the same database. */
export interface Stack {
  readonly kind: Kind;
  readonly dataSource: DataSource;
  readonly keystrata: KeystrataTypeorm;
  readonly rootKey: Pkcs11RootKey;
  readonly raw: RawDb;
  close(): Promise<void>;
}

/** A root key on the run's SoftHSM2 token. */
export function openRootKey(): Promise<Pkcs11RootKey> {
  const token = inject('softhsm');
  return Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
}

/** A fresh database of `kind` (SQLite file or PostgreSQL database) as DataSource options. */
export async function freshDatabase(kind: Kind): Promise<{ type: 'better-sqlite3'; database: string } | { type: 'postgres'; url: string }> {
  if (kind === 'sqlite') return { type: 'better-sqlite3', database: join(mkdtempSync(join(tmpdir(), 'keystrata-typeorm-')), 'app.db') };
  return { type: 'postgres', url: await createDatabase(inject('postgresUrl'), 'keystrata_typeorm') };
}

/** Opens a stack: fresh database, entities synchronized, Keystrata installed (tenant segments by default). */
export async function openStack(kind: Kind, options: Partial<InstallOptions> = {}, entities: Function[] = ENTITIES): Promise<Stack> {
  const db = await freshDatabase(kind);
  const dataSource = new DataSource({ ...db, entities, synchronize: true });
  await dataSource.initialize();
  const rootKey = await openRootKey();
  const keystrata = await installKeystrata(dataSource, { rootKey, segment: { by: 'tenant', field: 'tenantId' }, ...options });
  const raw = await openRawDb(db);
  return {
    kind,
    dataSource,
    keystrata,
    rootKey,
    raw,
    async close() {
      await raw.close();
      await keystrata.close();
      if (options.hierarchy === undefined) await rootKey.close().catch(() => undefined);
      await dataSource.destroy();
    },
  };
}
