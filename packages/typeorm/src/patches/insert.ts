import { KeystrataError } from '@keystrata/core';
import { InsertQueryBuilder, type ObjectLiteral } from 'typeorm';
import type { EntityInfo } from '../entity/entity-info.js';
import { targetOf } from '../state.js';
import { assertCiphertextOnly } from '../write/guard.js';
import { sealTargets } from '../write/seal.js';
import { isSealed, restore } from '../write/stash.js';
import { insertTarget } from '../write/targets.js';

type Row = Record<string, unknown>;
type OnUpdate = { conflict?: string | string[]; overwrite?: string[] } | undefined;

/** An upsert binds record ids only when it conflicts on the primary key (the row keeps its id otherwise). */
function upsertBindsIds(info: EntityInfo, onUpdate: OnUpdate): boolean {
  const conflict = onUpdate?.conflict;
  const primary = info.metadata.primaryColumns[0]!.databaseName;
  return onUpdate === undefined || (Array.isArray(conflict) ? conflict.length === 1 && conflict[0] === primary : conflict === primary);
}

/** On conflict, a blind index must be overwritten together with its encrypted column. */
function overwriteIndexes(info: EntityInfo, onUpdate: OnUpdate): void {
  const overwrite = onUpdate?.overwrite;
  if (!Array.isArray(overwrite)) return;
  const name = (property: string) => info.metadata.columns.find((c) => c.propertyName === property)!.databaseName;
  for (const { field, index } of info.fields) {
    if (index !== undefined && overwrite.includes(name(field)) && !overwrite.includes(name(index))) overwrite.push(name(index));
  }
}

/**
 * An explicit column list (`insert().into(Entity, ['tenantId', 'ssn'])`) must also carry what
 * Keystrata adds: the record id the values are bound to (else the database picks another id and
 * the row can never be read) and the blind index of each listed field (else lookups miss the row).
 */
function completeColumnList(info: EntityInfo, columns: string[], rows: readonly Row[]): void {
  if (columns.length === 0) return;
  if (!columns.includes(info.idField) && rows.some((row) => row[info.idField] !== undefined && row[info.idField] !== null)) columns.push(info.idField);
  for (const { field, index } of info.fields) if (index !== undefined && columns.includes(field) && !columns.includes(index)) columns.push(index);
}

/** INSERT … SELECT into encrypted columns cannot be checked for plaintext: refused. */
function assertNoSelectInto(info: EntityInfo, columns: readonly string[]): void {
  const hit = info.fields.find((f) => columns.length === 0 || columns.includes(f.field));
  if (hit !== undefined) {
    throw new KeystrataError('QUERY_UNSUPPORTED', `${info.model}.${hit.field} is encrypted: INSERT … SELECT cannot be checked for plaintext. List only unencrypted columns, or insert values.`);
  }
}

/**
 * Wraps `InsertQueryBuilder.execute` (used by `insert()`, `upsert()` and QueryBuilder
 * `insert().values()`): encrypts the value sets before TypeORM builds the SQL and restores the
 * caller's plaintext afterwards, even on failure. With listeners off it only lets ciphertext through.
 *
 * @example
 * ```ts
 * patchInsert(); // once per process
 * ```
 */
export function patchInsert(): void {
  const original = InsertQueryBuilder.prototype.execute;
  InsertQueryBuilder.prototype.execute = async function (this: InsertQueryBuilder<ObjectLiteral>) {
    const target = targetOf(this);
    if (target === undefined) return original.call(this);
    const { state, info } = target;
    if (this.expressionMap.insertFromSelect) {
      assertNoSelectInto(info, this.expressionMap.insertColumns);
      return original.call(this);
    }
    const rows = (this as unknown as { getValueSets(): Row[] }).getValueSets();
    if (!this.expressionMap.callListeners) {
      assertCiphertextOnly(info, rows, this.queryRunner);
      return original.call(this);
    }
    const onUpdate = this.expressionMap.onUpdate as OnUpdate;
    const bind = upsertBindsIds(info, onUpdate);
    const fresh = rows.filter((row) => !isSealed(row));
    try {
      await sealTargets(
        state,
        info,
        fresh.map((row) => insertTarget(state, info, row, bind)),
      );
      overwriteIndexes(info, onUpdate);
      completeColumnList(info, this.expressionMap.insertColumns, fresh);
      return await original.call(this);
    } finally {
      fresh.forEach(restore);
    }
  };
}
