import { resolveSegment } from '@keystrata/core/adapter';
import type { ModelContext } from './plugin/state.js';

type Obj = Record<string, unknown>;

const cast = (ctx: ModelContext, path: string, value: string): unknown => {
  const type = ctx.schema.path(path) as unknown as { cast(v: unknown): unknown } | undefined;
  try {
    return type ? type.cast(value) : value;
  } catch {
    return undefined;
  }
};

/**
 * A driver filter narrowing a scan to one segment where the policy can be inverted (tenant,
 * record, fixed); `{}` otherwise. Scanned documents are still checked with {@link inSegment}.
 *
 * @example
 * ```ts
 * segmentFilter(ctx, 'tenantId:acme'); // { tenantId: 'acme' }
 * ```
 */
export function segmentFilter(ctx: ModelContext, segment: string): Obj | null {
  const policy = ctx.options.segment;
  if (typeof policy === 'function') return {};
  if (policy.by === 'fixed') return policy.segment === segment ? {} : null;
  const prefix = policy.by === 'tenant' ? `${policy.field}:` : `${ctx.name}:`;
  if (!segment.startsWith(prefix)) return null;
  const path = policy.by === 'tenant' ? policy.field : '_id';
  const value = cast(ctx, path, segment.slice(prefix.length));
  return value === undefined ? {} : { [path]: value };
}

/**
 * True when a stored document belongs to `segment` under the model's policy.
 *
 * @example
 * ```ts
 * inSegment(ctx, { _id, tenantId: 'acme' }, 'tenantId:acme'); // true
 * ```
 */
export function inSegment(ctx: ModelContext, doc: Obj, segment: string): boolean {
  try {
    return resolveSegment(ctx.options.segment, ctx.name, String(doc._id), doc) === segment;
  } catch {
    return false;
  }
}

/**
 * Casts a stored `_id` string back to the schema's `_id` type.
 *
 * @example
 * ```ts
 * castId(ctx, '6650…'); // ObjectId
 * ```
 */
export function castId(ctx: ModelContext, id: string): unknown {
  return cast(ctx, '_id', id) ?? id;
}
