import { KeystrataError } from '@keystrata/core';
import type { EntityInfo } from '../entity/entity-info.js';
import { peekMarks, type RowMarks } from './stash.js';

type Row = Record<string, unknown>;

/**
 * Notes the blind index Keystrata itself wrote into column `index`, on marks already looked up (the write path does one lookup per row).
 *
 * @example
 * ```ts
 * noteIndexIn(marksOf(entity), 'emailIndex', entity.emailIndex);
 * ```
 */
export function noteIndexIn(m: RowMarks, index: string, value: unknown): void {
  const indexes = m.indexes;
  if (indexes === undefined) {
    m.indexes = [index, value];
    return;
  }
  for (let i = 0; i < indexes.length; i += 2) {
    if (indexes[i] === index) {
      indexes[i + 1] = value;
      return;
    }
  }
  indexes.push(index, value);
}

/** Whether `value` is the blind index Keystrata itself wrote into column `index` of the object. */
function writtenByKeystrata(row: object, index: string, value: unknown): boolean {
  const indexes = peekMarks(row)?.indexes;
  if (indexes !== undefined) for (let i = 0; i < indexes.length; i += 2) if (indexes[i] === index) return indexes[i + 1] === value;
  return false;
}

function refused(info: EntityInfo, field: string, index: string): KeystrataError {
  return new KeystrataError(
    'QUERY_UNSUPPORTED',
    `${info.model}.${index} is the blind index of ${field}; only Keystrata writes it: remove ${index} from the write and set ${field} instead. Nothing was written.`,
  );
}

/**
 * Refuses a write that sets a blind-index column by hand (issue 12: a copied index makes lookups
 * of one record return another). A value is accepted only where it is the one Keystrata wrote into
 * this object, or, for an update of a loaded entity, the stored value unchanged.
 *
 * @example
 * ```ts
 * refuseIndexWrites(info, { tenantId: 't', emailIndex: 'bi1.…' }); // throws QUERY_UNSUPPORTED
 * ```
 */
export function refuseIndexWrites(info: EntityInfo, row: Row, stored?: Row): void {
  for (const { field, index } of info.fields) {
    if (index === undefined || !(index in row) || row[index] === undefined) continue;
    const value = row[index];
    if (stored !== undefined && stored[index] === value) continue;
    if (writtenByKeystrata(row, index, value)) continue;
    throw refused(info, field, index);
  }
}

/**
 * For writes with listeners off (no encryption by Keystrata): a blind index may only travel with
 * its field's envelope, as Keystrata writes them; an index alone is refused.
 *
 * @example
 * ```ts
 * refuseLoneIndexes(info, valueSet);
 * ```
 */
export function refuseLoneIndexes(info: EntityInfo, row: Row): void {
  for (const { field, index } of info.fields) {
    if (index === undefined || row[index] === undefined) continue;
    if (row[field] === undefined || (row[field] === null && row[index] !== null)) throw refused(info, field, index);
  }
}
