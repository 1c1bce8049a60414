import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createSqliteDriver, SqlKeyStore, type KeyHierarchy } from '@keystrata/core';
import { installKeystrata } from '@keystrata/typeorm';
import { KsPatient, PlainPatient, StoredPatient } from '../orm/typeorm-entities.js';
import { mainBatches } from '../data.js';
import { openHierarchy } from '../keys.js';

/** What the TypeORM profile drivers work on, and how to take it down. */
export interface TypeormProfileSetup {
  readonly plain: DataSource;
  readonly ks: DataSource;
  /** The keystrata file without the adapter: envelopes as stored. */
  readonly stored: DataSource;
  readonly hierarchy: KeyHierarchy;
  close(): Promise<void>;
}

/**
 * The TypeORM profile drivers' set-up: a plain table and a keystrata one (installKeystrata, key
 * store in the same file), each holding the bench's 10,000 rows, and a DataSource over the keystrata
 * file without the adapter.
 */
export async function openTypeormProfile(label: string): Promise<TypeormProfileSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-bench-profile-'));
  const ksFile = join(dir, 'ks.db');
  const plain = await new DataSource({ type: 'better-sqlite3', database: join(dir, 'plain.db'), entities: [PlainPatient], synchronize: true }).initialize();
  const ks = await new DataSource({ type: 'better-sqlite3', database: ksFile, entities: [KsPatient], synchronize: true }).initialize();
  const hierarchy = await openHierarchy(new SqlKeyStore(await createSqliteDriver({ database: ksFile })), label);
  await installKeystrata(ks, { hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
  const stored = await new DataSource({ type: 'better-sqlite3', database: ksFile, entities: [StoredPatient] }).initialize();
  for (const batch of mainBatches()) {
    await plain.getRepository(PlainPatient).insert(batch.map((r) => ({ ...r })));
    await ks.getRepository(KsPatient).insert(batch.map((r) => ({ ...r })));
  }
  return {
    plain,
    ks,
    stored,
    hierarchy,
    close: async () => {
      await Promise.all([plain.destroy(), ks.destroy(), stored.destroy()]);
      await hierarchy.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
