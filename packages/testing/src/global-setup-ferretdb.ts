import type { TestProject } from 'vitest/node';
import './provided.js';
import { startFerretDb } from './ferretdb.js';

/**
 * Vitest global setup: one MongoDB wire-protocol server per test run, handed to tests with
 * `inject('mongodbUri')`. With `MONGODB_URI` set, that server is used instead of starting FerretDB
 * (each test still picks a fresh database name, so a shared server is fine).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.MONGODB_URI;
  if (external !== undefined && external !== '') {
    project.provide('mongodbUri', external);
    return async () => {};
  }
  const server = await startFerretDb();
  project.provide('mongodbUri', server.uri);
  return async () => {
    await server.stop();
  };
}
