import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR } from './paths.js';

/** File (in results/) written by revocation.bench.ts. */
export const REVOCATION_RESULTS = 'revocation.json';

/** One configuration of the revocation bench. */
export interface RevocationRun {
  readonly label: string;
  readonly kind: 'sqlite' | 'postgres';
  readonly readerCache: object;
  readonly trials: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Trials where the other process did not refuse (its answer). */
  readonly failures: readonly string[];
  /** Warm decrypts in the other process: key-store queries and change-log checks they caused. */
  readonly steady: { decrypts: number; queries: number; checks: number; ms: number; mode: string };
}

/** The markdown section of the revocation bench (empty when it did not run). */
export function revocationSection(): string {
  const file = join(RESULTS_DIR, REVOCATION_RESULTS);
  if (!existsSync(file)) return '';
  const { generatedAt, quick, runs } = JSON.parse(readFileSync(file, 'utf8')) as { generatedAt: string; quick: boolean; runs: RevocationRun[] };
  return [
    '',
    '## Revocation propagation between processes (issue 15 §1)',
    '',
    `From revocation.bench.ts, ${generatedAt}${quick ? ' (quick mode)' : ''}. Two processes over one key store, both caches warm with \`maxAgeMs\` of an hour; the other process decrypts in a loop; ` +
      'latency = from just before `disable()` is called to the other process refusing (includes the disable call: an upper bound of commit-to-refusal). Target: p99 < 1 s with default settings.',
    '',
    '| key store, settings | trials | p50 ms | p99 ms | max ms | not refused | warm decrypts | key-store queries | mode |',
    '|---|---|---|---|---|---|---|---|---|',
    ...runs.map(
      (r) =>
        `| ${r.label} | ${r.trials} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.failures.length} | ${r.steady.decrypts} in ${r.steady.ms.toFixed(0)} ms | ${r.steady.queries} (${r.steady.checks} change-log checks) | ${r.steady.mode} |`,
    ),
    '',
  ].join('\n');
}
