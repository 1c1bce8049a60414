/**
 * Rounds per workload: warm-up rounds (not recorded) and measured rounds, chosen so the whole
 * `pnpm bench` stays well under 10 minutes on 2 cores. KEYSTRATA_BENCH_QUICK=1 runs one round of
 * each (a smoke test of the harness, not a measurement).
 */
const quick = process.env.KEYSTRATA_BENCH_QUICK === '1';

export const ROUNDS = {
  W1: quick ? { warmup: 0, rounds: 1 } : { warmup: 1, rounds: 5 },
  W2: quick ? { warmup: 0, rounds: 1 } : { warmup: 2, rounds: 7 },
  W3: quick ? { warmup: 0, rounds: 1 } : { warmup: 1, rounds: 5 },
  W4: quick ? { warmup: 0, rounds: 1 } : { warmup: 2, rounds: 7 },
  W5: quick ? { warmup: 0, rounds: 1 } : { warmup: 1, rounds: 5 },
} as const;

export const QUICK = quick;

/**
 * Key-cache lifetime of the bench hierarchies: 30 min instead of the default 60 s, so "warm"
 * stays warm for the whole run. With the default, a process pays one key-store query and one HSM
 * call per KEK and minute (and a key-store query per DEK), which no workload here would show reliably.
 */
export const CACHE_MAX_AGE_MS = 30 * 60_000;
