import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { createSoftHsmToken } from '@keystrata/testing';
import { startFerretDb, type FerretDbServer } from '@keystrata/testing/ferretdb';
import { PARTS_DIR } from './paths.js';
import { writeReport } from './report.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why no MongoDB wire-protocol server is available ('' when one is). */
    mongodbUnavailable: string;
  }
}

/**
 * Vitest global setup of `pnpm bench`: a fresh SoftHSM2 token (`inject('softhsm')`), a private
 * FerretDB or `MONGODB_URI` (`inject('mongodbUri')`); no PostgreSQL (every SQL variant is SQLite).
 * Teardown merges the per-ORM results into results/latest.{json,md} and results/chart.svg.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // `pnpm report` (KEYSTRATA_BENCH_REPORT_ONLY=1, every test filtered out) re-renders the last run's parts.
  if (process.env.KEYSTRATA_BENCH_REPORT_ONLY === '1') return async () => writeReport();
  rmSync(PARTS_DIR, { recursive: true, force: true });
  const token = createSoftHsmToken({ label: `keystrata-bench-${process.pid}` });
  project.provide('softhsm', token);
  let ferret: FerretDbServer | undefined;
  const external = process.env.MONGODB_URI;
  if (external !== undefined && external !== '') {
    project.provide('mongodbUri', external);
    project.provide('mongodbUnavailable', '');
  } else {
    try {
      ferret = await startFerretDb();
      project.provide('mongodbUri', ferret.uri);
      project.provide('mongodbUnavailable', '');
    } catch (error) {
      project.provide('mongodbUri', '');
      project.provide('mongodbUnavailable', error instanceof Error ? error.message : String(error));
    }
  }
  return async () => {
    await ferret?.stop();
    rmSync(token.directory, { recursive: true, force: true });
    writeReport();
  };
}
