import { expect } from 'vitest';
import type { RawDb } from './raw.js';

/** Asserts no stored row of `table` contains `canary` (case-insensitive), read with the driver. */
export async function expectNoPlaintext(raw: RawDb, table: string, canary = 'canary'): Promise<Array<Record<string, unknown>>> {
  const rows = await raw.all(`SELECT * FROM "${table}"`);
  expect(rows.length).toBeGreaterThan(0);
  expect(JSON.stringify(rows).toLowerCase()).not.toContain(canary.toLowerCase());
  return rows;
}

/** The error code of a failed promise ('none' when it succeeds). */
export async function codeOf(work: Promise<unknown>): Promise<string> {
  return work.then(
    () => 'none',
    (error: { code?: unknown }) => (typeof error?.code === 'string' ? error.code : `untyped: ${String(error)}`),
  );
}

/** A stored value is a Keystrata envelope. */
export const ENVELOPE = /^ks1\.[A-Za-z0-9_-]+$/;
