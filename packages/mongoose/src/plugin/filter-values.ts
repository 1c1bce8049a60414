import type { FieldValue } from '@keystrata/core/adapter';
import { unsupported } from '../errors.js';
import type { EncryptedPath } from './schema-spec.js';
import type { ModelContext } from './state.js';

/**
 * True for `{ $op: … }` objects (every key an operator).
 *
 * @example
 * ```ts
 * isOperatorObject({ $in: [1] }); // true; isOperatorObject({ a: 1 }) is false
 * ```
 */
export function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof RegExp) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

/**
 * Casts a filter value like Mongoose would (setters such as `lowercase` included).
 *
 * @example
 * ```ts
 * castValue(ctx, 'email', 'ADA@Example.com', query); // 'ada@example.com' with a lowercase setter
 * ```
 */
export function castValue(ctx: ModelContext, path: string, value: unknown, scope: unknown): FieldValue {
  const type = ctx.schema.path(path) as unknown as { castForQuery(op: null, v: unknown, scope: unknown): unknown } | undefined;
  return (type ? type.castForQuery(null, value, scope) : value) as FieldValue;
}

/**
 * Blind indexes of `values` for an indexed encrypted path, refusing a path without one.
 *
 * @example
 * ```ts
 * await blindIndexes(ctx, { path: 'email', index: 'emailIndex' }, ['ada@example.com'], query); // ['bi1.…']
 * ```
 */
export async function blindIndexes(ctx: ModelContext, field: EncryptedPath, values: readonly unknown[], scope: unknown): Promise<string[]> {
  if (field.index === undefined) {
    throw unsupported(`${ctx.name}.${field.path}`, 'an equality lookup', `Declare it with encrypted: { index: '<path>' } to look it up through a blind index.`);
  }
  return ctx.records.indexesFor(
    ctx.name,
    field.path,
    values.map((v) => castValue(ctx, field.path, v, scope)),
  );
}

/**
 * Top-level equality conditions of a filter (what an upsert copies into the new document).
 *
 * @example
 * ```ts
 * equalities({ _id: id, tenantId: { $eq: 'acme' }, age: { $gt: 3 } }); // { _id: id, tenantId: 'acme' }
 * ```
 */
export function equalities(filter: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(filter)) {
    if (k.startsWith('$') || v instanceof RegExp || Array.isArray(v)) continue;
    if (isOperatorObject(v)) {
      if (Object.keys(v).length === 1 && '$eq' in v) out[k] = v.$eq;
    } else out[k] = v;
  }
  return out;
}
