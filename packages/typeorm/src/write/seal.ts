import type { AdapterState } from '../state.js';
import type { EntityInfo } from '../entity/entity-info.js';
import { markSealed, remember } from './stash.js';

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
  /** The record the segment is chosen from (the row merged over what is stored). */
  readonly source: Row;
}

/**
 * Encrypts the targets of one entity with the core RecordEncryptor (one batch) and writes the
 * envelopes and blind indexes into each target row, remembering the plaintext for restore().
 * All or nothing: on error no row is changed.
 *
 * @example
 * ```ts
 * await sealTargets(state, info, [{ row: entity, values: { ssn: entity.ssn }, id: entity.id, source: entity }]);
 * ```
 */
export async function sealTargets(state: AdapterState, info: EntityInfo, targets: readonly SealTarget[]): Promise<void> {
  if (targets.length === 0) return;
  const projections: Row[] = targets.map((t) => ({ ...t.values, ...(t.id === undefined ? {} : { [info.idField]: t.id }) }));
  await state.records.encrypt(info.model, projections, (_, i) => targets[i]!.source);
  targets.forEach((t, i) => {
    const sealed = projections[i]!;
    const touched = info.fields.filter((f) => f.field in t.values);
    remember(t.row, touched.map((f) => f.field));
    for (const f of touched) {
      t.row[f.field] = sealed[f.field];
      if (f.index !== undefined) t.row[f.index] = sealed[f.field] === null || sealed[f.field] === undefined ? null : sealed[f.index];
    }
    markSealed(t.row);
  });
}
