import { KeystrataError } from '@keystrata/core';
import type { EntityMetadata } from 'typeorm';
import { infoOf, type AdapterState } from '../state.js';

/**
 * For entity queries run with `callListeners(false)` (no afterLoad, so no decryption): refuses
 * results that carry an encrypted value, main entity or loaded relation, rather than hand out
 * ciphertext as if it were the field's value.
 *
 * @example
 * ```ts
 * assertNothingEncrypted(state, metadata, entities); // throws QUERY_UNSUPPORTED
 * ```
 */
export function assertNothingEncrypted(state: AdapterState, metadata: EntityMetadata, entities: readonly unknown[], seen = new Set<object>()): void {
  const info = infoOf(state, metadata);
  for (const entity of entities) {
    if (typeof entity !== 'object' || entity === null || seen.has(entity)) continue;
    seen.add(entity);
    const row = entity as Record<string, unknown>;
    const field = info?.fields.find((f) => row[f.field] !== undefined && row[f.field] !== null);
    if (field !== undefined) {
      throw new KeystrataError(
        'QUERY_UNSUPPORTED',
        `${info!.model}.${field.field} was loaded with callListeners(false), which skips decryption; remove it, or use getRawMany() and keystrata.decryptRaw().`,
      );
    }
    for (const relation of metadata.relations) {
      const value = relation.isLazy ? undefined : row[relation.propertyName];
      if (typeof value === 'object' && value !== null) assertNothingEncrypted(state, relation.inverseEntityMetadata, Array.isArray(value) ? value : [value], seen);
    }
  }
}
