import { expect } from 'vitest';
import type { RawDb } from './raw.js';

/** A stored value is a Keystrata envelope. */
export const ENVELOPE = /^ks1\.[A-Za-z0-9_-]+$/;

/** The `code` of the error a promise rejects with; 'none' when it resolves. */
export async function codeOf(work: PromiseLike<unknown>): Promise<string> {
  return Promise.resolve(work).then(
    () => 'none',
    (error: { code?: unknown }) => (typeof error?.code === 'string' ? error.code : `untyped: ${String(error)}`),
  );
}

/** The stored Patient rows, read with the driver: every marked value an envelope, no "canary" anywhere. */
export async function expectSealedAtRest(raw: RawDb, expected: number): Promise<Array<Record<string, unknown>>> {
  const rows = await raw.all('SELECT * FROM "Patient" ORDER BY id');
  expect(rows).toHaveLength(expected);
  expect(JSON.stringify(rows).toLowerCase()).not.toContain('canary');
  for (const row of rows) {
    expect(row.ssn).toMatch(ENVELOPE);
    expect(row.email).toMatch(ENVELOPE);
  }
  return rows;
}

/** One stored Patient row by id. */
export async function rawPatient(raw: RawDb, id: string): Promise<Record<string, unknown>> {
  const [row] = await raw.all('SELECT * FROM "Patient" WHERE id = ?', [id]);
  expect(row, `raw row ${id}`).toBeDefined();
  return row!;
}

/** A fresh text id for rows written outside Prisma (Prisma generates cuids itself). */
export function newId(prefix: string): string {
  return `${prefix}_${Math.random().toString(36).slice(2, 12)}`;
}
