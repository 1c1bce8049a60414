import { KeystrataError } from '@keystrata/core';
import type { KeystrataRuntime } from '../extension/runtime.js';
import type { Row } from '../util/plain.js';

/**
 * Decrypts the encrypted fields of raw rows of `model` (e.g. `$queryRaw` results), returning
 * copies. Columns must carry the Prisma field names (alias `@map`ped columns), with the id and
 * segment field selected alongside.
 *
 * @example
 * ```ts
 * const [row] = await decryptRawRows(rt, 'Patient', await db.$queryRaw`SELECT * FROM "Patient"`);
 * ```
 */
export async function decryptRawRows<T extends Row | readonly Row[]>(rt: KeystrataRuntime, model: string, rows: T): Promise<T> {
  if (rt.model(model) === undefined) throw new KeystrataError('CONFIG_INVALID', `decryptRow: model "${model}" is not in the field map.`);
  const copies = (Array.isArray(rows) ? (rows as readonly Row[]) : [rows as Row]).map((row) => ({ ...row }));
  await rt.records.decrypt(model, copies);
  return (Array.isArray(rows) ? copies : copies[0]) as T;
}
