import { readPath, type Target } from './paths.js';
import type { ModelContext } from './state.js';

type Row = Record<string, unknown>;

/**
 * The fields a segment policy reads from a stored record: the tenant field, nothing, or the whole
 * record without its encrypted paths (function policy).
 *
 * @example
 * ```ts
 * segmentInputs(ctx, doc); // { tenantId: 'acme' }
 * ```
 */
export function segmentInputs(ctx: ModelContext, target: Target): Row {
  const fields = ctx.spec.segmentFields;
  if (fields !== 'all') return Object.fromEntries(fields.map((f) => [f, readPath(target, f)]));
  const plain =
    'toObject' in target && typeof target.toObject === 'function' ? (target.toObject({ depopulate: true, getters: false, virtuals: false, transform: false }) as Row) : { ...(target as Row) };
  for (const f of ctx.spec.fields) delete plain[f.path];
  return plain;
}
