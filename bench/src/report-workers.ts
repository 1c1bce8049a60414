import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR } from './paths.js';

/** The file reencryption-workers.bench.ts writes (not under parts/: it is no ORM part). */
export const WORKERS_RESULT_FILE = 'reencryption-workers.json';

/** One rotation of the segment by `workers` worker processes. */
export interface WorkersRun {
  readonly workers: number;
  readonly rows: number;
  readonly batches: number;
  /** Planning: new DEK, then one scan of the segment to split it into batches (the enqueuing process). */
  readonly planSeconds: number;
  /** From the plan to the last batch done (the workers). */
  readonly batchSeconds: number;
  /** The finish: wait for writers, one verification scan, old DEK destroyed (one worker). */
  readonly finishSeconds: number;
  readonly totalSeconds: number;
  readonly rowsPerSecond: number;
  readonly batchRowsPerSecond: number;
}

/** What the bench file writes. */
export interface WorkersResult {
  readonly generatedAt: string;
  readonly rows: number;
  readonly batchSize: number;
  readonly durationSeconds: number;
  readonly runs: readonly WorkersRun[];
}

/**
 * The markdown section of the re-encryption workers bench, or nothing when it did not run.
 *
 * @example
 * ```ts
 * out.push(...workersSection());
 * ```
 */
export function workersSection(): string[] {
  const file = join(RESULTS_DIR, WORKERS_RESULT_FILE);
  if (!existsSync(file)) return [];
  const result = JSON.parse(readFileSync(file, 'utf8')) as WorkersResult;
  const f = (x: number, digits = 1) => x.toFixed(digits);
  return [
    `## DEK re-encryption by worker processes (issue 15 §2, PostgreSQL, pg-boss)`,
    '',
    `One segment of ${result.rows.toLocaleString('en')} rows (TypeORM, one encrypted field per row), batches of ${result.batchSize}, old DEK destroyed at the end; each worker a separate process. ` +
      'plan = new DEK + one scan of the segment to cut it into batches (the enqueuing process); batches = the workers; finish = wait for writers + one verification scan + retiring the old DEK (one worker). Nothing else ran (no application writes).',
    '',
    '| workers | rows/s overall | rows/s in the batch phase | plan s | batches s | finish s | total s |',
    '|---|---|---|---|---|---|---|',
    ...result.runs.map(
      (r) => `| ${r.workers} | ${f(r.rowsPerSecond, 0)} | ${f(r.batchRowsPerSecond, 0)} | ${f(r.planSeconds)} | ${f(r.batchSeconds)} | ${f(r.finishSeconds)} | ${f(r.totalSeconds)} |`,
    ),
    '',
  ];
}
