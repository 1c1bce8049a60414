import { performance } from 'node:perf_hooks';

/** Median and spread of repeated timings, in µs per item. */
export interface Timing {
  readonly medianMicros: number;
  readonly minMicros: number;
  readonly maxMicros: number;
}

/**
 * Runs each variant `rounds` times, interleaved (a, b, a, b, …) after `warmup` untimed rounds, and
 * returns µs per item for each: the variants share the same process, heap and CPU state. Used by
 * the packages' own benchmarks (`pnpm bench`); never for timed assertions.
 *
 * @example
 * ```ts
 * const t = await interleave({ plain: () => repo.find(), keystrata: () => ksRepo.find() }, 20_000);
 * t.keystrata.medianMicros - t.plain.medianMicros; // overhead per item
 * ```
 */
export async function interleave(variants: Record<string, () => Promise<unknown> | unknown>, items: number, rounds = 15, warmup = 3): Promise<Record<string, Timing>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let round = 0; round < warmup + rounds; round++) {
    for (const [name, run] of Object.entries(variants)) {
      const start = performance.now();
      await run();
      const micros = ((performance.now() - start) * 1000) / items;
      if (round >= warmup) samples[name]!.push(micros);
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, s]) => {
      const sorted = [...s].sort((a, b) => a - b);
      return [name, { medianMicros: sorted[Math.floor(sorted.length / 2)]!, minMicros: sorted[0]!, maxMicros: sorted.at(-1)! }];
    }),
  );
}
