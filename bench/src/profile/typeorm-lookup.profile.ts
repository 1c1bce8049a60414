/**
 * W3 decomposition for the TypeORM adapter (issue 16): 1,000 equality lookups on the encrypted
 * e-mail, interleaved round by round, as
 * - plain: findOneBy({ email }) on a plain table with an ordinary index;
 * - stored: findOneBy({ emailIndex }) on the keystrata table through a DataSource without the
 *   adapter, the blind index precomputed (the ORM reading bigger values by the index column);
 * - core: hierarchy.blindIndex + decryptValues of the row's two envelopes (the core alone, no ORM);
 * - keystrata-by-index: findOneBy({ emailIndex }) through installKeystrata (the adapter's read path, no token);
 * - keystrata: findOneBy({ email }) through installKeystrata.
 * Prints µs per lookup (median of the rounds; the process's CPU time in parentheses) and the
 * key-store queries / HSM calls per run.
 * `pnpm --filter @keystrata/bench exec vitest run -c vitest.profile.config.ts src/profile/typeorm-lookup.profile.ts`;
 * KEYSTRATA_PROFILE_ONLY=<variant>: one variant; KEYSTRATA_PROFILE_CPU=<file>: a CPU profile of the
 * measured loops only; KEYSTRATA_PROFILE_PROMISES=1: promises created per lookup and variant;
 * KEYSTRATA_PROFILE_GC=1 with NODE_OPTIONS=--expose-gc: a major GC before every run, as the bench
 * harness does (every variant then measures 2–3× slower on this machine).
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
import { KsPatient, PlainPatient, StoredPatient } from '../orm/typeorm-entities.js';
import { emailOf, expectRow, lookupSeqs, mainBatches } from '../data.js';
import { openHierarchy } from '../keys.js';
import { coreLookups } from './core-lookup.js';
import { profileInto } from './cpu-profile.js';

const ROUNDS = Number(process.env.KEYSTRATA_PROFILE_ROUNDS ?? 7);

it('profile: typeorm W3 lookups, decomposed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-bench-profile-'));
  const ksFile = join(dir, 'ks.db');
  const plain = await new DataSource({ type: 'better-sqlite3', database: join(dir, 'plain.db'), entities: [PlainPatient], synchronize: true }).initialize();
  const ks = await new DataSource({ type: 'better-sqlite3', database: ksFile, entities: [KsPatient], synchronize: true }).initialize();
  const hierarchy = await openHierarchy(new SqlKeyStore(await createSqliteDriver({ database: ksFile })), 'profile-typeorm-lookup');
  await installKeystrata(ks, { hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
  const stored = await new DataSource({ type: 'better-sqlite3', database: ksFile, entities: [StoredPatient] }).initialize();
  for (const batch of mainBatches()) {
    await plain.getRepository(PlainPatient).insert(batch.map((r) => ({ ...r })));
    await ks.getRepository(KsPatient).insert(batch.map((r) => ({ ...r })));
  }
  const plainRepo = plain.getRepository(PlainPatient);
  const ksRepo = ks.getRepository(KsPatient);
  const storedRepo = stored.getRepository(StoredPatient);
  const indexes = new Map<number, string>();
  for (const seq of lookupSeqs) indexes.set(seq, await hierarchy.blindIndex(emailOf(seq), { model: 'KsPatient', field: 'email' }));
  const storedRows = new Map<number, StoredPatient>();
  for (const seq of lookupSeqs) storedRows.set(seq, (await storedRepo.findOneBy({ emailIndex: indexes.get(seq)! }))!);
  if ([...storedRows.values()].some((r) => r === null)) throw new Error('the precomputed blind index finds no row: the model name differs');

  const variants: Record<string, () => Promise<void>> = {
    plain: async () => {
      for (const seq of lookupSeqs) expectRow(await plainRepo.findOneBy({ email: emailOf(seq) }), seq);
    },
    stored: async () => {
      for (const seq of lookupSeqs) if ((await storedRepo.findOneBy({ emailIndex: indexes.get(seq)! }))?.seq !== seq) throw new Error('stored lookup');
    },
    core: coreLookups(hierarchy, 'KsPatient', storedRows),
    // The adapter's read path alone: the blind index given (no token to resolve), the row decrypted on load.
    'keystrata-by-index': async () => {
      for (const seq of lookupSeqs) expectRow(await ksRepo.findOneBy({ emailIndex: indexes.get(seq)! }), seq);
    },
    keystrata: async () => {
      for (const seq of lookupSeqs) expectRow(await ksRepo.findOneBy({ email: emailOf(seq) }), seq);
    },
  };
  if (process.env.KEYSTRATA_PROFILE_PROMISES === '1') {
    // Promises created per lookup, per variant (deterministic, unlike time on a shared machine).
    const { createHook } = await import('node:async_hooks');
    let promises = 0;
    const hook = createHook({ init: (_id, type) => void (type === 'PROMISE' && promises++) });
    const seq = lookupSeqs[0]!;
    const once: Record<string, () => Promise<unknown>> = {
      plain: () => plainRepo.findOneBy({ email: emailOf(seq) }),
      stored: () => storedRepo.findOneBy({ emailIndex: indexes.get(seq)! }),
      blindIndex: () => hierarchy.blindIndex(emailOf(seq), { model: 'KsPatient', field: 'email' }),
      decryptValues: () => {
        const row = storedRows.get(seq)!;
        const segment = `tenantId:${row.tenantId}`;
        return hierarchy.decryptValues([
          { ciphertext: row.email, context: { model: 'KsPatient', field: 'email', recordId: row.id, segment } },
          { ciphertext: row.ssn, context: { model: 'KsPatient', field: 'ssn', recordId: row.id, segment } },
        ]);
      },
      keystrata: () => ksRepo.findOneBy({ email: emailOf(seq) }),
    };
    for (const [name, run] of Object.entries(once)) {
      await run();
      promises = 0;
      hook.enable();
      await run();
      hook.disable();
      console.log(`[profile] promises per lookup: ${name} ${promises}`);
    }
  }
  const only = process.env.KEYSTRATA_PROFILE_ONLY;
  if (only !== undefined) for (const name of Object.keys(variants)) if (name !== only) delete variants[name];
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((n) => [n, []]));
  const queries: number[] = [];
  const hsm: number[] = [];
  const stopProfile = await profileInto(process.env.KEYSTRATA_PROFILE_CPU);
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const [name, run] of Object.entries(variants)) {
      if (process.env.KEYSTRATA_PROFILE_GC !== undefined) globalThis.gc?.(); // as the bench harness does before each timed run
      const before = hierarchy.stats();
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      await run();
      const ms = performance.now() - started;
      const cpuUsed = process.cpuUsage(cpuBefore);
      const after = hierarchy.stats();
      if (round === 0) continue;
      times[name]!.push((ms * 1000) / lookupSeqs.length);
      cpu[name]!.push((cpuUsed.user + cpuUsed.system) / lookupSeqs.length);
      if (name === 'keystrata') {
        queries.push(after.keyStoreQueries - before.keyStoreQueries);
        hsm.push(after.hsmCalls - before.hsmCalls);
      }
    }
  }
  await stopProfile?.();
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  const line = Object.entries(times)
    .map(([name, t]) => `${name} ${median(t).toFixed(1)} (CPU ${median(cpu[name]!).toFixed(1)})`)
    .join(', ');
  console.log(`[profile] typeorm W3 µs per lookup (median of ${ROUNDS}): ${line}; keystrata key-store queries per run ${queries.join('/')}, HSM calls ${hsm.join('/')}`);
  await Promise.all([plain.destroy(), ks.destroy(), stored.destroy()]);
  await hierarchy.close();
  rmSync(dir, { recursive: true, force: true });
});
