import type { AdapterState } from '../state.js';
import type { EntityInfo } from '../entity/entity-info.js';
import { markSealed, remember } from './stash.js';
import { noteIndexWritten } from './index-columns.js';

type Row = Record<string, unknown>;

/**
 * One object to encrypt: which plaintexts, bound to which record id, segmented by which record.
 *
 * @example
 * ```ts
 * const target: SealTarget = { row: entity, values: { ssn: entity.ssn }, id: entity.id, source: entity };
 * ```
 */
export interface SealTarget {
  /** The object written to the database: receives the ciphertexts and blind indexes. */
  readonly row: Row;
  /** Plaintexts to encrypt, by field; `null` clears the field and its blind index. */
  readonly values: Row;
  /** The record id bound into the AAD, or undefined when it is unknown at write time. */
  readonly id: string | undefined;
  /** The record the segment is chosen from (the row merged over what is stored); holds every value of `values`. */
  readonly source: Row;
}

/** The record the segment and keyring are chosen from: the source, carrying the bound id. */
function recordOf(info: EntityInfo, t: SealTarget): Row {
  return t.id === undefined || t.source[info.idField] === t.id ? t.source : { ...t.source, [info.idField]: t.id };
}

/** Writes the envelopes and blind indexes into the target rows, remembering the plaintext. */
function writeBack(info: EntityInfo, targets: readonly SealTarget[], sealed: readonly Row[]): void {
  for (let t = 0; t < targets.length; t++) {
    const { row, values } = targets[t]!;
    for (const { field, index } of info.fields) {
      if (!(field in values)) continue;
      const plaintext = values[field];
      const cleared = plaintext === undefined || plaintext === null;
      remember(row, field);
      row[field] = cleared ? plaintext : sealed[t]![field];
      if (index !== undefined) noteIndexWritten(row, index, (row[index] = cleared ? null : sealed[t]![index]));
    }
    markSealed(row);
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
 * await sealTargets(state, info, [{ row: entity, values: { ssn: entity.ssn }, id: entity.id, source: entity }]);
 * ```
 */
export async function sealTargets(state: AdapterState, info: EntityInfo, targets: readonly SealTarget[]): Promise<void> {
  if (targets.length === 0) return;
  const sealed = await state.records.sealRecords(
    info.model,
    targets.map((t) => ({ values: t.values, id: t.id, record: recordOf(info, t) })),
  );
  writeBack(info, targets, sealed);
}
