import type { TestProject } from 'vitest/node';
import './provided.js';
import { createSoftHsmToken } from './softhsm.js';
import { startPostgres } from './postgres.js';

/**
 * Vitest global setup: one fresh SoftHSM2 token and one private PostgreSQL server per test run,
 * handed to tests with `inject('softhsm')` / `inject('postgresUrl')`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const softhsm = createSoftHsmToken({ label: `keystrata-test-${process.pid}` });
  project.provide('softhsm', softhsm);
  const postgres = await startPostgres();
  project.provide('postgresUrl', postgres.url);
  return async () => {
    await postgres.stop();
  };
}
