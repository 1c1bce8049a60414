import { resolveSegment } from '@keystrata/core/adapter';
import type { EntityInfo } from '../entity/entity-info.js';
import type { AdapterState } from '../state.js';
import { idString } from '../write/ids.js';

/**
 * A SQL condition selecting an entity's rows of a segment: `none`, `all`, or `property = value`.
 *
 * @example
 * ```ts
 * const filter: SegmentFilter = { property: 'tenantId', value: 'acme' };
 * ```
 */
export type SegmentFilter = 'none' | 'all' | { readonly property: string; readonly value: string };

/**
 * The SQL-side filter for a segment under the adapter's policy (a function policy scans all rows
 * and relies on {@link inSegment}).
 *
 * @example
 * ```ts
 * segmentFilter(state, info, 'tenantId:acme'); // { property: 'tenantId', value: 'acme' }
 * ```
 */
export function segmentFilter(state: AdapterState, info: EntityInfo, segment: string): SegmentFilter {
  const policy = state.segment;
  if (typeof policy === 'function') return 'all';
  if (policy.by === 'fixed') return policy.segment === segment ? 'all' : 'none';
  const [property, prefix] = policy.by === 'tenant' ? [policy.field, `${policy.field}:`] : [info.idField, `${info.model}:`];
  return segment.startsWith(prefix) ? { property, value: segment.slice(prefix.length) } : 'none';
}

/**
 * Whether a record (keyed by property) belongs to the segment.
 *
 * @example
 * ```ts
 * inSegment(state, info, { id: 'p1', tenantId: 'acme' }, 'tenantId:acme'); // true
 * ```
 */
export function inSegment(state: AdapterState, info: EntityInfo, record: Record<string, unknown>, segment: string): boolean {
  try {
    return resolveSegment(state.segment, info.model, idString(record[info.idField]), record) === segment;
  } catch {
    return false;
  }
}
