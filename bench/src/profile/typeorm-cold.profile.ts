/**
 * W4 driver for the TypeORM adapter (issue 16): a cold read of 1,000 rows spanning the 100
 * tenants (`find({ where: { seq: LessThan(1000) } })` after `hierarchy.clearCache()`), against the
 * same read through a DataSource without the adapter (envelopes as stored) and the plain table.
 * Prints ms per read (median; the process's CPU time in parentheses), HSM calls and key-store
 * queries per cold read. KEYSTRATA_PROFILE_CPU=<file>: a CPU profile of the keystrata reads only.
 * `pnpm --filter @keystrata/bench exec vitest run -c vitest.profile.config.ts src/profile/typeorm-cold.profile.ts`.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { LessThan } from 'typeorm';
import { it } from 'vitest';
import { openTypeormProfile } from './typeorm-setup.js';
import { KsPatient, PlainPatient, StoredPatient } from '../orm/typeorm-entities.js';
import { COLD_ROWS, expectRows } from '../data.js';
import { profileInto } from './cpu-profile.js';

const ROUNDS = Number(process.env.KEYSTRATA_PROFILE_ROUNDS ?? 15);

it('profile: typeorm W4 cold read', async () => {
  const { plain, ks, stored, hierarchy, close } = await openTypeormProfile('profile-typeorm-cold');
  const where = { seq: LessThan(COLD_ROWS) };
  const variants: Record<string, { prepare?: () => void; run: () => Promise<void> }> = {
    plain: { run: async () => expectRows(await plain.getRepository(PlainPatient).find({ where }), COLD_ROWS) },
    stored: {
      run: async () => {
        if ((await stored.getRepository(StoredPatient).find({ where })).length !== COLD_ROWS) throw new Error('stored read');
      },
    },
    keystrata: { prepare: () => hierarchy.clearCache(), run: async () => expectRows(await ks.getRepository(KsPatient).find({ where }), COLD_ROWS) },
  };
  const times: Record<string, number[]> = { plain: [], stored: [], keystrata: [] };
  const cpu: Record<string, number[]> = { plain: [], stored: [], keystrata: [] };
  const counters: string[] = [];
  const profile = process.env.KEYSTRATA_PROFILE_CPU;
  let stop: (() => Promise<void>) | undefined;
  for (let round = 0; round < ROUNDS + 2; round++) {
    for (const [name, v] of Object.entries(variants)) {
      v.prepare?.();
      if (name === 'keystrata' && round === 2) stop = await profileInto(profile);
      const before = hierarchy.stats();
      const started = performance.now();
      const c = process.cpuUsage();
      await v.run();
      const used = process.cpuUsage(c);
      const ms = performance.now() - started;
      const after = hierarchy.stats();
      if (round < 2) continue;
      times[name]!.push(ms);
      cpu[name]!.push((used.user + used.system) / 1000);
      if (name === 'keystrata') counters.push(`${after.hsmCalls - before.hsmCalls}/${after.keyStoreQueries - before.keyStoreQueries}`);
    }
  }
  await stop?.();
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  console.log(
    `[profile] typeorm W4 ms per cold read of ${COLD_ROWS} rows (median of ${ROUNDS}): ${Object.keys(times)
      .map((n) => `${n} ${median(times[n]!).toFixed(2)} (CPU ${median(cpu[n]!).toFixed(2)})`)
      .join(', ')}; keystrata HSM calls / key-store queries per read ${counters.join(' ')}`,
  );
  await close();
});
