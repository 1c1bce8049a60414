import { unsupported } from '../errors.js';
import type { ModelContext } from './state.js';

const related = (a: string, b: string): boolean => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);

/**
 * Refuses sorting on an encrypted path (ciphertext order is random).
 *
 * @example
 * ```ts
 * checkSort(ctx, { email: 1 }); // throws QUERY_UNSUPPORTED
 * ```
 */
export function checkSort(ctx: ModelContext, sort: unknown): void {
  if (sort === undefined || sort === null) return;
  const keys = sort instanceof Map ? [...sort.keys()] : Array.isArray(sort) ? sort.map((s) => (Array.isArray(s) ? s[0] : s)) : Object.keys(sort);
  for (const key of keys.map(String)) {
    const hit = ctx.spec.fields.find((f) => related(key, f.path));
    if (hit !== undefined) throw unsupported(`${ctx.name}.${hit.path}`, 'sorting', 'Ciphertext has no useful order; sort on another field or in memory after reading.');
  }
}

/**
 * Refuses a projection that drops `_id` while selecting encrypted paths bound to it.
 *
 * @example
 * ```ts
 * checkProjection(ctx, { _id: 0, ssn: 1 }); // throws QUERY_UNSUPPORTED
 * ```
 */
export function checkProjection(ctx: ModelContext, projection: unknown): void {
  if (ctx.options.bindRecordId === false || typeof projection !== 'object' || projection === null) return;
  const p = projection as Record<string, unknown>;
  if (p._id !== 0 && p._id !== false && p._id !== '0') return;
  const inclusive = Object.entries(p).some(([k, v]) => k !== '_id' && (v === 1 || v === true));
  const selected = ctx.spec.fields.some((f) => (inclusive ? p[f.path] === 1 || p[f.path] === true : p[f.path] !== 0 && p[f.path] !== false));
  if (selected) throw unsupported(`${ctx.name}._id`, 'excluding _id', 'Encrypted values are bound to the document _id; keep _id in the projection.');
}

/**
 * Refuses `distinct` on an encrypted path.
 *
 * @example
 * ```ts
 * checkDistinct(ctx, 'ssn'); // throws QUERY_UNSUPPORTED
 * ```
 */
export function checkDistinct(ctx: ModelContext, path: unknown): void {
  if (typeof path !== 'string') return;
  const hit = ctx.spec.fields.find((f) => related(path, f.path));
  if (hit !== undefined) throw unsupported(`${ctx.name}.${hit.path}`, 'distinct', 'Each stored ciphertext is unique; use distinct on its blind-index path to count equal values.');
}
