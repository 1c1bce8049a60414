/**
 * CPU-profile driver for the TypeORM adapter: W2's warm find() of 10,000 rows through
 * installKeystrata (default), or W1's insert() batches (KEYSTRATA_PROFILE=write).
 * `pnpm --filter @keystrata/bench profile`, then `node scripts/cpuprofile-top.mjs <file>`.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { it } from 'vitest';
import { createSqliteDriver, SqlKeyStore } from '@keystrata/core';
import { installKeystrata } from '@keystrata/typeorm';
import { KsPatient } from '../orm/typeorm-entities.js';
import { mainBatches } from '../data.js';
import { openHierarchy } from '../keys.js';

it('profile: typeorm through installKeystrata', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-bench-profile-'));
  const file = join(dir, 'ks.db');
  const ds = await new DataSource({ type: 'better-sqlite3', database: file, entities: [KsPatient], synchronize: true }).initialize();
  const hierarchy = await openHierarchy(new SqlKeyStore(await createSqliteDriver({ database: file })), 'profile-typeorm');
  await installKeystrata(ds, { hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
  const repo = ds.getRepository(KsPatient);
  const insertAll = async () => {
    for (const batch of mainBatches()) await repo.insert(batch.map((r) => ({ ...r })));
  };
  await insertAll();
  const mode = process.env.KEYSTRATA_PROFILE ?? 'read';
  const runs = mode === 'write' ? 15 : 40;
  const started = performance.now();
  for (let i = 0; i < runs; i++) {
    if (mode === 'write') {
      await ds.query('DELETE FROM "patient"');
      await insertAll();
    } else {
      await repo.find();
    }
  }
  console.log(`[profile] typeorm ${mode}: ${((performance.now() - started) / runs).toFixed(1)} ms per run`);
  await ds.destroy();
  await hierarchy.close();
  rmSync(dir, { recursive: true, force: true });
});
