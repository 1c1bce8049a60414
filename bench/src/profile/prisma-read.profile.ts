/**
 * CPU-profile driver for the Prisma adapter: W2's warm findMany of 10,000 rows through
 * withKeystrata (default), W1's createMany of them (KEYSTRATA_PROFILE=write), or W3's 1,000
 * findFirst lookups on the blind-indexed e-mail (KEYSTRATA_PROFILE=lookup); KEYSTRATA_PROFILE=extends
 * also prints what a pass-through `$extends` alone costs a findMany.
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
  db.exec(
    'CREATE TABLE "Patient" ("id" TEXT NOT NULL PRIMARY KEY, "seq" INTEGER NOT NULL, "tenantId" TEXT NOT NULL, "email" TEXT NOT NULL, "emailIndex" TEXT, "ssn" TEXT NOT NULL); CREATE UNIQUE INDEX "Patient_emailIndex_key" ON "Patient"("emailIndex")',
  );
  db.close();
  const hierarchy = await openHierarchy(new SqlKeyStore(await createSqliteDriver({ database: file })), 'profile');
  const base = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
  const ks = withKeystrata(base, { hierarchy, fieldMap, segment: { by: 'tenant', field: 'tenantId' } });
  for (const batch of mainBatches()) await ks.patient.createMany({ data: batch.map((r) => ({ ...r })) });
  const mode = process.env.KEYSTRATA_PROFILE ?? 'read';
  if (mode === 'extends') {
    // What Prisma's query-extension machinery alone costs a findMany of the same rows: a pass-through
    // $extends vs the bare client, alternated (the part of the "adapter" overhead that is Prisma's).
    const passThrough = base.$extends({ query: { $allModels: { $allOperations: ({ args, query }) => query(args) } } });
    const times: Record<string, number[]> = { bare: [], passThrough: [] };
    for (let i = 0; i < 30; i++) {
      for (const [name, client] of [
        ['bare', base],
        ['passThrough', passThrough],
      ] as const) {
        const t = performance.now();
        await (client as typeof base).patient.findMany();
        if (i >= 5) times[name]!.push(performance.now() - t);
      }
    }
    const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
    console.log(
      `[profile] extends: bare ${median(times.bare!).toFixed(1)} ms, pass-through $extends ${median(times.passThrough!).toFixed(1)} ms per findMany of 10,000 rows: ${(((median(times.passThrough!) - median(times.bare!)) * 1000) / 20_000).toFixed(2)} µs per encrypted field`,
    );
  }
  const started = performance.now();
  for (let i = 0; i < (mode === 'read' ? 40 : 15); i++) {
    if (mode === 'write') {
      await base.$executeRawUnsafe('DELETE FROM "Patient"');
      for (const batch of mainBatches()) await ks.patient.createMany({ data: batch.map((r) => ({ ...r })) });
    } else if (mode === 'lookup') {
      for (const seq of lookupSeqs) expectRow(await ks.patient.findFirst({ where: { email: emailOf(seq) } }), seq);
    } else {
      await ks.patient.findMany();
    }
  }
  console.log(`[profile] ${mode}: ${((performance.now() - started) / (mode === 'read' ? 40 : 15)).toFixed(1)} ms per run`);
  await base.$disconnect();
  await hierarchy.close();
  rmSync(dir, { recursive: true, force: true });
});
