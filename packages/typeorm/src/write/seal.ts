import type { AdapterState } from '../state.js';
import type { EntityInfo } from '../entity/entity-info.js';
import type { RecordValues } from '@keystrata/core/adapter';
import { marksOf, rememberIn } from './stash.js';
import { noteIndexIn } from './index-columns.js';

type Row = Record<string, unknown>;

/**
 * One object to encrypt: which plaintexts, bound to which record id, segmented by which record.
 * It is the core's `RecordValues` plus the row that receives the envelopes, so a batch is handed
 * to the core as it is (no per-row copy).
 *
 * @example
 * ```ts
 * const target: SealTarget = { row: entity, values: { ssn: entity.ssn }, id: entity.id, record: entity };
 * ```
 */
export interface SealTarget extends RecordValues {
  /** The object written to the database: receives the ciphertexts and blind indexes. */
  readonly row: Row;
  /** Plaintexts to encrypt, by field; `null` clears the field and its blind index. */
  readonly values: Row;
  /** The record id bound into the AAD, or undefined when it is unknown at write time. */
  readonly id: string | undefined;
  /** The record the segment and keyring are chosen from (the row merged over what is stored), carrying the bound id; holds every value of `values`. */
  readonly record: Row;
}

/**
 * The record a target's segment and keyring are chosen from: `source`, carrying the bound id
 * (copied only when `source` holds another id).
 *
 * @example
 * ```ts
 * recordWithId(info, merged, '42'); // merged itself when merged.id is already '42'
 * ```
 */
export function recordWithId(info: EntityInfo, source: Row, id: string | undefined): Row {
  return id === undefined || source[info.idField] === id ? source : { ...source, [info.idField]: id };
}

/** Writes the envelopes and blind indexes into the target rows, remembering the plaintext (one marks lookup per row). */
function writeBack(info: EntityInfo, targets: readonly SealTarget[], sealed: readonly Row[]): void {
  const fields = info.fields;
  for (let t = 0; t < targets.length; t++) {
    const { row, values } = targets[t]!;
    const out = sealed[t]!;
    const marks = marksOf(row);
    for (let f = 0; f < fields.length; f++) {
      const { field, index } = fields[f]!;
      if (!(field in values)) continue;
      const plaintext = values[field];
      const cleared = plaintext === undefined || plaintext === null;
      rememberIn(marks, row, field);
      row[field] = cleared ? plaintext : out[field];
      if (index !== undefined) noteIndexIn(marks, index, (row[index] = cleared ? null : out[index]));
    }
    marks.sealed = true;
  }
}

/**
 * Encrypts the targets of one entity in one core batch (`RecordEncryptor.sealRecords`: the values,
 * bound to the target's id, segment and keyring chosen from its record) and writes the envelopes
 * and blind indexes into each target row, remembering the plaintext for restore(). All or
 * nothing: on error no row is changed.
 *
 * @example
 * ```ts
 * await sealTargets(state, info, [{ row: entity, values: { ssn: entity.ssn }, id: entity.id, record: entity }]);
 * ```
 */
export async function sealTargets(state: AdapterState, info: EntityInfo, targets: readonly SealTarget[]): Promise<void> {
  if (targets.length === 0) return;
  writeBack(info, targets, await state.records.sealRecords(info.model, targets));
}
