import { fileURLToPath } from 'node:url';

/** The bench package directory. */
export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
/** Where latest.json, latest.md and chart.svg are written. */
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
/** Per-ORM partial results of the current run (merged by the global setup's teardown). */
export const PARTS_DIR = fileURLToPath(new URL('../results/parts/', import.meta.url));
