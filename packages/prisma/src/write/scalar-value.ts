import { isPlainObject, type Row } from '../util/plain.js';

/**
 * The value an update writes to a scalar (`v` or `{ set: v }`); undefined when it writes none.
 *
 * @example
 * ```ts
 * writtenValue({ set: 'acme' }); // 'acme'
 * ```
 */
export function writtenValue(value: unknown): unknown {
  return isPlainObject(value) && 'set' in value ? value.set : value;
}

/**
 * The literal a unique `where` pins a field to (`{ id: 'x' }` or `{ id: { equals: 'x' } }`).
 *
 * @example
 * ```ts
 * whereEquals({ id: 'p1', tenantId: { equals: 'acme' } }, 'tenantId'); // 'acme'
 * ```
 */
export function whereEquals(where: Row | undefined, field: string): unknown {
  const value = where?.[field];
  const literal = isPlainObject(value) && Object.keys(value).length === 1 ? value.equals : value;
  return literal === null || typeof literal === 'object' ? undefined : literal;
}
