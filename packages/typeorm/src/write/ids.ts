import { resolveSegment } from '@keystrata/core/adapter';
import type { EntityInfo } from '../entity/entity-info.js';
import type { AdapterState } from '../state.js';

type Row = Record<string, unknown>;

/**
 * A record id as bound into the AAD: the primary-key value as a string, or undefined.
 *
 * @example
 * ```ts
 * idString(42); // '42'
 * ```
 */
export function idString(value: unknown): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

/**
 * The segment of a record under the adapter's policy, or undefined when it cannot be chosen.
 *
 * @example
 * ```ts
 * segmentOf(state, info, { id: 'p1', tenantId: 'acme' }); // 'tenantId:acme'
 * ```
 */
export function segmentOf(state: AdapterState, info: EntityInfo, row: Row): string | undefined {
  try {
    return resolveSegment(state.segment, info.model, idString(row[info.idField]), row);
  } catch {
    return undefined;
  }
}
