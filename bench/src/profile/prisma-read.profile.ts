/**
 * CPU-profile driver for the Prisma adapter: W2's warm findMany of 10,000 rows through
 * withKeystrata (default), W1's createMany of them (KEYSTRATA_PROFILE=write), or W3's 1,000
 * findFirst lookups on the blind-indexed e-mail (KEYSTRATA_PROFILE=lookup).
 * `pnpm --filter @keystrata/bench profile`, then
 * `node scripts/cpuprofile-top.mjs results/profiles/<file>.cpuprofile`. Not part of `bench`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { it } from 'vitest';
import { createSqliteDriver, SqlKeyStore } from '@keystrata/core';
import { withKeystrata } from '@keystrata/prisma';
import { PrismaClient } from '../../generated/keystrata/client/client.js';
import { fieldMap } from '../../generated/keystrata/fieldmap/index.js';
import { emailOf, expectRow, lookupSeqs, mainBatches } from '../data.js';
import { openHierarchy } from '../keys.js';

it('profile: prisma through withKeystrata', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-bench-profile-'));
  const file = join(dir, 'ks.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE "Patient" ("id" TEXT NOT NULL PRIMARY KEY, "seq" INTEGER NOT NULL, "tenantId" TEXT NOT NULL, "email" TEXT NOT NULL, "emailIndex" TEXT, "ssn" TEXT NOT NULL); CREATE UNIQUE INDEX "Patient_emailIndex_key" ON "Patient"("emailIndex")');
  db.close();
  const hierarchy = await openHierarchy(new SqlKeyStore(await createSqliteDriver({ database: file })), 'profile');
  const base = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
  const ks = withKeystrata(base, { keystrata: hierarchy, fieldMap, segment: { by: 'tenant', field: 'tenantId' } });
  for (const batch of mainBatches()) await ks.patient.createMany({ data: batch.map((r) => ({ ...r })) });
  const mode = process.env.KEYSTRATA_PROFILE ?? 'read';
  const started = performance.now();
  for (let i = 0; i < (mode === "read" ? 40 : 15); i++) {
    if (mode === 'write') {
      await base.$executeRawUnsafe('DELETE FROM "Patient"');
      for (const batch of mainBatches()) await ks.patient.createMany({ data: batch.map((r) => ({ ...r })) });
    } else if (mode === 'lookup') {
      for (const seq of lookupSeqs) expectRow(await ks.patient.findFirst({ where: { email: emailOf(seq) } }), seq);
    } else {
      await ks.patient.findMany();
    }
  }
  console.log(`[profile] ${mode}: ${((performance.now() - started) / (mode === "read" ? 40 : 15)).toFixed(1)} ms per run`);
  await base.$disconnect();
  await hierarchy.close();
  rmSync(dir, { recursive: true, force: true });
});
