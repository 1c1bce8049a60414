import { randomUUID } from 'node:crypto';
import { KeystrataError, UnreadableValue } from '@keystrata/core';
import type { AdapterState } from '../state.js';
import type { EntityInfo } from '../entity/entity-info.js';
import { recordWithId, type SealTarget } from './seal.js';
import { idString, segmentOf } from './ids.js';
import { remember } from './stash.js';
import { refuseIndexWrites } from './index-columns.js';

type Row = Record<string, unknown>;

function checked(info: EntityInfo, field: string, value: unknown): unknown {
  if (typeof value === 'function') throw new KeystrataError('QUERY_UNSUPPORTED', `${info.model}.${field} is encrypted: a raw SQL value cannot be encrypted; pass the plaintext.`);
  if (UnreadableValue.isInstance(value)) throw new KeystrataError('PLAINTEXT_REJECTED', `${info.model}.${field} holds an unreadable-value placeholder, which cannot be written.`);
  return value;
}

/**
 * The target of an inserted object: every encrypted field it carries, bound to its id. A missing
 * `@PrimaryGeneratedColumn('uuid')` id is generated first so it can be bound.
 *
 * @example
 * ```ts
 * const target = insertTarget(state, info, entity, true);
 * ```
 */
export function insertTarget(state: AdapterState, info: EntityInfo, row: Row, bind: boolean): SealTarget {
  refuseIndexWrites(info, row);
  if (state.generateUuids && info.uuid && (row[info.idField] === undefined || row[info.idField] === null)) row[info.idField] = randomUUID();
  const values: Row = {};
  const fields = info.fields;
  for (let f = 0; f < fields.length; f++) {
    const field = fields[f]!.field;
    const value = row[field];
    if (value !== undefined) values[field] = checked(info, field, value);
  }
  const id = bind ? idString(row[info.idField]) : undefined;
  return { row, values, id, record: recordWithId(info, row, id) };
}

/**
 * The target of an update of `row` over the stored plaintext `current`: the changed encrypted
 * fields, plus every stored one when the segment or the bound id changes (they move with it).
 * Placeholders of unreadable values are left out of the write.
 *
 * @example
 * ```ts
 * const target = updateTarget(state, info, entity, event.databaseEntity, ['ssn']);
 * ```
 */
export function updateTarget(state: AdapterState, info: EntityInfo, row: Row, current: Row | undefined, changed: readonly string[] | 'all'): SealTarget {
  refuseIndexWrites(info, row, current);
  const merged: Row = { ...current, ...Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined)) };
  const moved =
    current !== undefined && (segmentOf(state, info, current) !== segmentOf(state, info, merged) || (state.bindRecordId && idString(current[info.idField]) !== idString(merged[info.idField])));
  const values: Row = {};
  for (const { field } of info.fields) {
    const own = row[field];
    if (UnreadableValue.isInstance(own) && !moved) {
      remember(row, field);
      delete row[field];
    } else if (own !== undefined && (moved || changed === 'all' || changed.includes(field))) values[field] = checked(info, field, own);
    else if (own === undefined && moved && current[field] !== undefined && current[field] !== null) values[field] = checked(info, field, current[field]);
  }
  const id = idString(merged[info.idField]);
  return { row, values, id, record: recordWithId(info, merged, id) };
}
