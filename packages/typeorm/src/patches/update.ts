import { UpdateQueryBuilder, type ObjectLiteral } from 'typeorm';
import type { EntityInfo } from '../entity/entity-info.js';
import { targetOf, type AdapterState } from '../state.js';
import { assertCiphertextOnly } from '../write/guard.js';
import { isSealed } from '../write/stash.js';
import { refuseIndexWrites } from '../write/index-columns.js';
import { updateRowByRow } from '../write/update-rows.js';

/** Whether an update set can change ciphertexts: an encrypted field, the segment or the bound id. */
function touchesEncryption(state: AdapterState, info: EntityInfo, set: Record<string, unknown>): boolean {
  const policy = state.segment;
  if (typeof policy === 'function') return true;
  const segmentKey = policy.by === 'tenant' ? policy.field : policy.by === 'record' ? info.idField : undefined;
  return Object.keys(set).some((key) => set[key] !== undefined && (info.fields.some((f) => f.field === key) || key === segmentKey || (state.bindRecordId && key === info.idField)));
}

/**
 * Wraps `UpdateQueryBuilder.execute` (used by `update()` and QueryBuilder `update().set()`): an
 * update that touches encrypted fields (or their segment or bound id) runs row by row, each row
 * encrypted for its own id and segment. With listeners off it only lets ciphertext through.
 *
 * @example
 * ```ts
 * patchUpdate(); // once per process
 * ```
 */
export function patchUpdate(): void {
  const original = UpdateQueryBuilder.prototype.execute;
  UpdateQueryBuilder.prototype.execute = async function (this: UpdateQueryBuilder<ObjectLiteral>) {
    const target = targetOf(this);
    const set = this.expressionMap.valuesSet as Record<string, unknown> | undefined;
    if (target === undefined || typeof set !== 'object' || set === null) return original.call(this);
    if (!this.expressionMap.callListeners) {
      assertCiphertextOnly(target.info, [set], this.queryRunner);
      return original.call(this);
    }
    if (isSealed(set)) return original.call(this);
    refuseIndexWrites(target.info, set);
    if (!touchesEncryption(target.state, target.info, set)) return original.call(this);
    return updateRowByRow(this, target.state, target.info);
  };
}
