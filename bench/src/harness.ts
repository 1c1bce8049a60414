import { performance } from 'node:perf_hooks';
import { summarize, type Summary } from './stats.js';

/** The four variants measured for every ORM. */
const VARIANTS = ['plain', 'keystrata', 'peer', 'raw'] as const;
export type VariantName = (typeof VARIANTS)[number];
export type WorkloadId = 'W1' | 'W2' | 'W3' | 'W4' | 'W5';

/** One variant's work in a workload. */
interface Step {
  /** Untimed, before every run (re-create a table, empty the key cache, …). */
  readonly prepare?: () => Promise<void> | void;
  /** The timed work; it checks its own results (cheaply) so nothing is optimised away. */
  readonly run: () => Promise<void> | void;
}

/** A variant that cannot do the workload, with the reason shown in the report. */
interface NotApplicable {
  readonly na: string;
}

export type VariantStep = Step | NotApplicable;

/** Key-hierarchy counters (from `KeyHierarchy.stats()`). */
export interface KeyCounters {
  readonly hsmCalls: number;
  readonly keyStoreQueries: number;
}

export interface WorkloadDef {
  readonly id: WorkloadId | string;
  readonly title: string;
  /** Encrypted field values touched by one run (the divisor of the per-field numbers). */
  readonly fields: number;
  readonly warmup: number;
  readonly rounds: number;
  /** Variants in their base order; `plain` is the baseline of the paired overhead. */
  readonly steps: Readonly<Record<string, VariantStep>>;
  /** Variants that need no ORM (raw, core alone): their "overhead" is their own µs per field. */
  readonly standalone?: readonly string[];
  /** Variants whose HSM calls and key-store queries are counted per run (default: keystrata). */
  readonly counted?: readonly string[];
  /** What each variant does here, when it differs from the ORM-level description; '*': the workload. */
  readonly notes?: Readonly<Record<string, string | undefined>>;
}

export interface VariantResult {
  readonly status: 'ok' | 'n/a' | 'error';
  /** Why n/a, or the error. */
  readonly reason?: string;
  readonly note?: string;
  /** Wall time of one run, ms. */
  readonly ms?: Summary;
  /** All-in µs per encrypted field (run time / fields). */
  readonly perFieldMicros?: Summary;
  /**
   * µs per encrypted field over plain: (variant − plain) / fields, paired by round (both ran in
   * the same round, back to back). For raw, which needs no ORM, its own µs per field.
   */
  readonly overheadMicros?: Summary;
  /** Counted variants only (keystrata, the breakdown's core): HSM calls and key-store queries per measured run (stats() deltas). */
  readonly counters?: { readonly hsmCalls: Summary; readonly keyStoreQueries: Summary; readonly perRound: readonly KeyCounters[] };
}

export interface WorkloadResult {
  readonly id: WorkloadId | string;
  readonly title: string;
  /** A note on the whole workload (notes['*']). */
  readonly note?: string;
  readonly fields: number;
  readonly warmup: number;
  readonly rounds: number;
  /** Keyed by variant: plain, keystrata, peer, raw (and the breakdown's own variants). */
  readonly variants: Readonly<Record<string, VariantResult>>;
}

const isNa = (step: VariantStep): step is NotApplicable => 'na' in step;
const gc = (globalThis as { gc?: () => void }).gc;
/**
 * How long each timed run waits after the forced GC: V8 sweeps the old space concurrently after a
 * full GC, and a run started at once shares the CPU with that sweep (and sweeps pages itself when it
 * allocates). In a process holding an ORM's heap that cost 0.5–1 µs per value on the core's 30 ms
 * runs (the same code measured 0.93 µs per value with 50 ms of settling, 2.0 without, 230 MB live),
 * far more in proportion than on a one-second ORM run. 100 ms, the same for every variant.
 */
const SETTLE_MS = 100;
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
const fmt = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(2));

const countersOf = (samples: readonly KeyCounters[]): NonNullable<VariantResult['counters']> => ({
  hsmCalls: summarize(samples.map((c) => c.hsmCalls)),
  keyStoreQueries: summarize(samples.map((c) => c.keyStoreQueries)),
  perRound: samples,
});

/**
 * Runs a workload: `warmup + rounds` rounds; in each round every applicable variant runs once,
 * back to back, in an order rotated by one each round (so no variant always runs first or right
 * after the heaviest one). Warm-up rounds are not recorded. A major GC runs (untimed) before each
 * timed run when `--expose-gc` is on, then {@link SETTLE_MS} pass before the clock starts. Keystrata's HSM calls and key-store queries are the
 * `stats()` deltas around each timed run. A failing variant is recorded as an error, not thrown.
 */
export async function runWorkload(def: WorkloadDef, counters?: () => KeyCounters, log: (line: string) => void = console.log): Promise<WorkloadResult> {
  const names = Object.keys(def.steps);
  const standalone = new Set(def.standalone ?? ['raw']);
  const active = names.filter((v) => !isNa(def.steps[v]!));
  const samples: Record<string, number[]> = Object.fromEntries(names.map((v) => [v, [] as number[]]));
  const counted = new Set(def.counted ?? ['keystrata']);
  const counterSamples: Record<string, KeyCounters[]> = Object.fromEntries(names.map((v) => [v, [] as KeyCounters[]]));
  const errors: Record<string, string> = {};
  for (let round = 0; round < def.warmup + def.rounds; round++) {
    const shift = round % active.length;
    const order = [...active.slice(shift), ...active.slice(0, shift)];
    for (const variant of order) {
      if (errors[variant] !== undefined) continue;
      const step = def.steps[variant] as Step;
      try {
        await step.prepare?.();
        if (gc !== undefined) {
          gc();
          await settle();
        }
        const before = counted.has(variant) ? counters?.() : undefined;
        const started = performance.now();
        await step.run();
        const ms = performance.now() - started;
        const after = counted.has(variant) ? counters?.() : undefined;
        if (round < def.warmup) continue;
        samples[variant]!.push(ms);
        if (before !== undefined && after !== undefined) {
          counterSamples[variant]!.push({ hsmCalls: after.hsmCalls - before.hsmCalls, keyStoreQueries: after.keyStoreQueries - before.keyStoreQueries });
        }
      } catch (error) {
        errors[variant] = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        log(`[bench] ${def.id} ${variant} failed: ${errors[variant]}`);
      }
    }
  }
  const plain = samples.plain ?? [];
  const variants = Object.fromEntries(
    names.map((variant): [string, VariantResult] => {
      const step = def.steps[variant]!;
      const note = def.notes?.[variant];
      const base = note === undefined ? {} : { note };
      if (isNa(step)) return [variant, { status: 'n/a', reason: step.na, ...base }];
      if (errors[variant] !== undefined) return [variant, { status: 'error', reason: errors[variant], ...base }];
      const s = samples[variant]!;
      const perField = s.map((ms) => (ms * 1000) / def.fields);
      let overhead: number[] | undefined;
      if (standalone.has(variant)) overhead = perField;
      else if (variant !== 'plain' && errors.plain === undefined && plain.length === s.length) overhead = s.map((ms, i) => ((ms - plain[i]!) * 1000) / def.fields);
      return [
        variant,
        {
          status: 'ok',
          ...base,
          ms: summarize(s),
          perFieldMicros: summarize(perField),
          ...(overhead === undefined ? {} : { overheadMicros: summarize(overhead) }),
          ...(counterSamples[variant]!.length > 0 ? { counters: countersOf(counterSamples[variant]!) } : {}),
        },
      ];
    }),
  );
  const note = def.notes?.['*'];
  const result: WorkloadResult = { id: def.id, title: def.title, ...(note === undefined ? {} : { note }), fields: def.fields, warmup: def.warmup, rounds: def.rounds, variants };
  log(
    `[bench] ${def.id} ${def.title}: ` +
      names
        .map((v) => {
          const r = variants[v]!;
          if (r.status !== 'ok') return `${v} ${r.status}`;
          return `${v} ${fmt(r.ms?.median)} ms${v === 'plain' ? '' : ` (+${fmt(r.overheadMicros?.median)} µs/field)`}`;
        })
        .join(', ') +
      (variants.keystrata?.counters ? `; keystrata HSM ${variants.keystrata.counters.hsmCalls.max} / key-store ${variants.keystrata.counters.keyStoreQueries.max} (max per run)` : ''),
  );
  return result;
}
