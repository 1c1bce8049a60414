/**
 * The breakdown runs (B1 write, B2 read) split into their parts, µs per field, medians of rounds
 * run interleaved in one process: what the ORM pays to store keystrata's values (the index column
 * and the bigger values), the core's crypto, the core's key-store check, and the adapter (the rest).
 */
import type { VariantResult, WorkloadResult } from './harness.js';
import { f2, overhead } from './report-values.js';
import type { OrmPart } from './part.js';

/** One breakdown run's parts; undefined where that run has no such step (B2 has no index column of its own). */
export interface BreakdownSplit {
  readonly total: number;
  /** The plain ORM writing the blind-index column alone (plaintext values otherwise). */
  readonly indexColumn: number | undefined;
  /** The plain ORM storing envelopes instead of plaintext, in the keystrata table's layout (no index on the encrypted columns), beyond the index column. */
  readonly biggerValues: number;
  /** Everything the ORM pays for what keystrata stores, with no crypto at all. */
  readonly storage: number;
  /** The core's crypto alone (write pointers fresh on B1). */
  readonly coreCrypto: number;
  /** The core's key-store check of its write pointers after a pause (B1), µs per field, and the queries per run. */
  readonly coreCheck: { readonly micros: number; readonly queries: string } | undefined;
  readonly adapter: number;
  readonly raw: number;
}

const queries = (r: VariantResult | undefined): string => {
  const q = r?.counters?.keyStoreQueries;
  return q === undefined ? '?' : q.min === q.max ? String(q.median) : `${q.median} (${q.min}–${q.max})`;
};

/**
 * The split of one breakdown run, or undefined when a needed step did not run.
 *
 * @example
 * ```ts
 * const b1 = breakdownOf(part, 'B1'); // b1?.storage: µs per field the ORM pays with no crypto at all
 * ```
 */
export function breakdownOf(part: OrmPart, id: 'B1' | 'B2'): BreakdownSplit | undefined {
  const w: WorkloadResult | undefined = part.workloads.find((x) => x.id === id);
  const v = w?.variants;
  const [total, storage, core, raw] = [overhead(v?.keystrata), overhead(v?.['plain-ciphertext']), overhead(v?.core), overhead(v?.raw)];
  if (total === undefined || storage === undefined || core === undefined || raw === undefined) return undefined;
  const indexColumn = overhead(v?.['plain-index']);
  const fresh = overhead(v?.['core-fresh']);
  return {
    total,
    indexColumn,
    biggerValues: indexColumn === undefined ? storage : storage - indexColumn,
    storage,
    coreCrypto: fresh ?? core,
    coreCheck: fresh === undefined ? undefined : { micros: core - fresh, queries: queries(v?.core) },
    adapter: total - storage - core,
    raw,
  };
}

/**
 * The Markdown table of both breakdown runs of every ORM part that ran.
 *
 * @example
 * ```ts
 * lines.push(breakdownTable(parts));
 * ```
 */
export function breakdownTable(parts: readonly OrmPart[]): string {
  const lines = [
    '| ORM | path | keystrata overhead | storage: index column | storage: envelopes (keystrata layout) | core crypto | core key-store check (queries per run) | adapter (rest) | raw AES-GCM | core crypto / raw |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const part of parts.filter((p) => p.status === 'ok')) {
    for (const [id, path] of [
      ['B1', 'write (W1: encrypt 2 fields + blind index)'],
      ['B2', 'read (W2: decrypt 2 fields)'],
    ] as const) {
      const b = breakdownOf(part, id);
      if (b === undefined) continue;
      const check = b.coreCheck === undefined ? '—' : `${f2(b.coreCheck.micros)} (${b.coreCheck.queries})`;
      lines.push(
        `| ${part.orm} | ${path} | ${f2(b.total)} | ${f2(b.indexColumn)} | ${f2(b.biggerValues)} | ${f2(b.coreCrypto)} | ${check} | ${f2(b.adapter)} | ${f2(b.raw)} | ${f2(b.coreCrypto / b.raw)} |`,
      );
    }
  }
  return lines.join('\n');
}
