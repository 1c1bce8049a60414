import type { EntityInfo } from '../entity/entity-info.js';
import type { AdapterState } from '../state.js';
import { decryptRows } from './decrypt-rows.js';

type Row = Record<string, unknown>;

/**
 * Decrypts, in place, the encrypted columns of raw rows of one entity (`query()` rows keyed by
 * column name, or `getRawMany()` rows keyed `<alias>_<column>` when `alias` is given). The id and
 * segment columns must be selected too. Fails like entity reads: never returns ciphertext.
 *
 * @example
 * ```ts
 * await decryptRawRows(state, info, await qb.getRawMany(), 'p');
 * ```
 */
export async function decryptRawRows<T extends Row>(state: AdapterState, info: EntityInfo, rows: T[], alias?: string): Promise<T[]> {
  const prefix = alias === undefined ? '' : `${alias}_`;
  const columns = info.metadata.columns.filter((c) => c.embeddedMetadata === undefined).map((c) => [c.propertyName, prefix + c.databaseName] as const);
  const records = rows.map((row) => Object.fromEntries(columns.filter(([, key]) => key in row).map(([property, key]) => [property, row[key]])));
  await decryptRows(state, [info], [records]);
  rows.forEach((row, i) => {
    for (const [property, key] of columns) {
      if (key in row && info.fields.some((f) => f.field === property)) (row as Row)[key] = records[i]![property];
    }
  });
  return rows;
}
