/** What every section of the report reads a part with and how it prints a number. */
import type { VariantResult, WorkloadResult } from './harness.js';
import type { OrmPart } from './part.js';

/** A number to two decimals, or '—' when there is none. */
export const f2 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(2));

/** A variant's median overhead in µs per field, when it ran. */
export const overhead = (r: VariantResult | undefined): number | undefined => (r?.status === 'ok' ? r.overheadMicros?.median : undefined);

/** One workload of an ORM's part, by id. */
export const workload = (part: OrmPart, id: string): WorkloadResult | undefined => part.workloads.find((w) => w.id === id);
