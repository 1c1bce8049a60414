/**
 * Issue 15 §3: the per-value cost of DEK usage counting (rotation policies) on the encrypt path.
 * Three variants interleaved in one process, order rotated each round, on one SQLite key store and
 * the run's SoftHSM2 token, warm caches: `hierarchy.encryptValues` with counting switched off (the
 * policy hook replaced by a no-op: today's encrypt path without rotation policies), with counting
 * at the default limit, and with a full policy (KEK and DEK validity periods plus a usage limit).
 * Writes results/parts/sections/usage-counting.json for report-usage-counting.ts.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { it } from 'vitest';
import { createSqliteDriver, SqlKeyStore, type KeyHierarchy } from '@keystrata/core';
import { QUICK } from './config.js';
import { openHierarchy } from './keys.js';
import { summarize } from './stats.js';
import { USAGE_COUNTING_PART } from './report-usage-counting.js';

const VALUES = QUICK ? 20_000 : 200_000;
const BATCH = 100;
const SEGMENTS = 10;
const ROUNDS = QUICK ? { warmup: 1, rounds: 3 } : { warmup: 2, rounds: 9 };

type Variant = 'off' | 'default' | 'policy';

/** One round: VALUES values in batches of BATCH over SEGMENTS segments; µs per value. */
async function round(hierarchy: KeyHierarchy, keyring: string): Promise<number> {
  const started = performance.now();
  for (let done = 0; done < VALUES; done += BATCH) {
    const items = Array.from({ length: BATCH }, (_, i) => ({
      value: `value-${done + i}-abcdefghijklmnopqrstuvwxyz`,
      context: { model: 'Patient', field: 'ssn', recordId: `r${done + i}`, segment: `tenant-${i % SEGMENTS}`, keyring },
    }));
    await hierarchy.encryptValues(items);
  }
  return ((performance.now() - started) * 1000) / VALUES;
}

it('usage counting: per-value cost on the encrypt path, counting off / default limit / full policy', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-usage-')), 'keys.db');
  const stores = await Promise.all([1, 2].map(async () => new SqlKeyStore(await createSqliteDriver({ database: file }))));
  const counted = await openHierarchy(stores[0]!, 'usage-on');
  const uncounted = await openHierarchy(stores[1]!, 'usage-off');
  await counted.provision('with-policy');
  await counted.policies.set({ keyring: 'with-policy', kekValiditySeconds: 90 * 86_400, dekValiditySeconds: 365 * 86_400, dekUsageLimit: 2 ** 30 });
  // Counting off: the policy hook of this hierarchy does nothing (the encrypt path as before rotation policies).
  Object.assign(uncounted.policies, { admit: () => undefined, refresh: () => undefined });
  const run: Record<Variant, () => Promise<number>> = {
    off: () => round(uncounted, 'default'),
    default: () => round(counted, 'default'),
    policy: () => round(counted, 'with-policy'),
  };
  const samples: Record<Variant, number[]> = { off: [], default: [], policy: [] };
  const order: Variant[] = ['off', 'default', 'policy'];
  for (let r = 0; r < ROUNDS.warmup + ROUNDS.rounds; r++) {
    const rotated = [...order.slice(r % 3), ...order.slice(0, r % 3)];
    for (const variant of rotated) {
      (globalThis as { gc?: () => void }).gc?.();
      const micros = await run[variant]();
      if (r >= ROUNDS.warmup) samples[variant].push(micros);
    }
  }
  const usage = counted.policies.usageStats;
  const part = {
    quick: QUICK,
    values: VALUES,
    batch: BATCH,
    segments: SEGMENTS,
    rounds: ROUNDS,
    micros: { off: summarize(samples.off), default: summarize(samples.default), policy: summarize(samples.policy) },
    // Paired ratios per round (same round, adjacent runs): less sensitive to drift than a ratio of medians.
    ratios: {
      default: summarize(samples.default.map((v, i) => v / samples.off[i]!)),
      policy: summarize(samples.policy.map((v, i) => v / samples.off[i]!)),
    },
    reservations: usage.reservations,
    reserved: usage.reserved,
    used: usage.used,
  };
  mkdirSync(join(USAGE_COUNTING_PART, '..'), { recursive: true });
  writeFileSync(USAGE_COUNTING_PART, `${JSON.stringify(part, null, 2)}\n`);
  console.log(
    `[bench] usage counting: off ${part.micros.off.median.toFixed(2)} µs/value, default ${part.micros.default.median.toFixed(2)}, policy ${part.micros.policy.median.toFixed(2)}; ratios ${part.ratios.default.median.toFixed(3)} / ${part.ratios.policy.median.toFixed(3)}`,
  );
  for (const h of [counted, uncounted]) await h.close();
});
