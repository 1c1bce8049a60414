import { performance } from 'node:perf_hooks';
import type { KeyHierarchy } from '@keystrata/core';
import { emailOf, lookupSeqs } from '../data.js';
import { profileInto } from './cpu-profile.js';

/** A looked-up row as the ORM stores it (envelopes, no decryption). */
interface StoredLookupRow {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly ssn: string;
}

/**
 * The core's share of W3, without an ORM: per lookup, the blind index of the e-mail and the decrypt
 * of the row found (already read into `storedRows`), under the adapter's model name.
 */
export function coreLookups(hierarchy: KeyHierarchy, model: string, storedRows: ReadonlyMap<number, StoredLookupRow>): () => Promise<void> {
  return async () => {
    for (const seq of lookupSeqs) {
      await hierarchy.blindIndex(emailOf(seq), { model, field: 'email' });
      const row = storedRows.get(seq)!;
      const segment = `tenantId:${row.tenantId}`;
      await hierarchy.decryptValues([
        { ciphertext: row.email, context: { model, field: 'email', recordId: row.id, segment } },
        { ciphertext: row.ssn, context: { model, field: 'ssn', recordId: row.id, segment } },
      ]);
    }
  };
}

/** Measured rounds of the W3 lookup profiles (one untimed warm-up round comes first). */
const LOOKUP_ROUNDS = Number(process.env.KEYSTRATA_PROFILE_ROUNDS ?? 7);

/**
 * Times each lookup variant for {@link LOOKUP_ROUNDS} rounds after a warm-up round, interleaved,
 * and returns the summary line: µs per lookup (wall and CPU, medians), keystrata's key-store queries
 * and HSM calls per run. KEYSTRATA_PROFILE_ONLY=<variant> times that one alone,
 * KEYSTRATA_PROFILE_CPU=<path> writes a CPU profile of the timed loop, KEYSTRATA_PROFILE_GC=1 runs a
 * major GC before each run (as the bench harness does).
 */
export async function timeLookups(hierarchy: KeyHierarchy, variants: Record<string, () => Promise<unknown>>): Promise<string> {
  const only = process.env.KEYSTRATA_PROFILE_ONLY;
  const names = Object.keys(variants).filter((name) => only === undefined || name === only);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const queries: number[] = [];
  const hsm: number[] = [];
  const stopProfile = await profileInto(process.env.KEYSTRATA_PROFILE_CPU);
  for (let round = 0; round < LOOKUP_ROUNDS + 1; round++) {
    for (const name of names) {
      if (process.env.KEYSTRATA_PROFILE_GC !== undefined) globalThis.gc?.();
      const before = hierarchy.stats();
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      await variants[name]!();
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
  const line = names.map((name) => `${name} ${median(times[name]!).toFixed(1)} (CPU ${median(cpu[name]!).toFixed(1)})`).join(', ');
  return `µs per lookup (median of ${LOOKUP_ROUNDS}): ${line}; keystrata key-store queries per run ${queries.join('/')}, HSM calls ${hsm.join('/')}`;
}
