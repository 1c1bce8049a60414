import { KeystrataError } from '@keystrata/core';
import type { KeystrataRuntime } from './extension/runtime.js';
import type { Row } from './util/plain.js';

/**
 * The runtime of a client made by `withKeystrata` (its `$keystrata` member).
 *
 * @example
 * ```ts
 * const rt = runtimeOf(db);
 * ```
 */
export function runtimeOf(db: unknown): KeystrataRuntime {
  const rt = (db as { $keystrata?: KeystrataRuntime } | null)?.$keystrata;
  if (rt === undefined || typeof rt.decryptRow !== 'function') throw new KeystrataError('CONFIG_INVALID', 'Expected a client returned by withKeystrata (or a transaction client of one).');
  return rt;
}

/**
 * Decrypts the marked fields of rows that bypassed the extension, such as `$queryRaw` results
 * (raw SQL returns ciphertext). Select the record id and segment field too, and alias `@map`ped
 * columns to their field names. Returns decrypted copies; fails closed like any read.
 *
 * @example
 * ```ts
 * const rows = await db.$queryRaw<Patient[]>`SELECT id, "tenantId", ssn, email FROM "Patient"`;
 * const patients = await decryptRow(db, 'Patient', rows);
 * ```
 */
export async function decryptRow<T extends Row | readonly Row[]>(db: unknown, model: string, rows: T): Promise<T> {
  return runtimeOf(db).decryptRow(model, rows);
}
