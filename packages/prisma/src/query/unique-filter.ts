import type { KeystrataRuntime } from '../extension/runtime.js';
import { isPlainObject, type Row } from '../util/plain.js';

/**
 * A unique `where` usable as a plain filter: compound keys (`tenantId_code: { tenantId, code }`)
 * are spread into their fields, since relation selections only take filters.
 *
 * @example
 * ```ts
 * uniqueAsFilter(rt, 'Post', { tenantId_slug: { tenantId: 't', slug: 's' } }); // { tenantId: 't', slug: 's' }
 * ```
 */
export function uniqueAsFilter(rt: KeystrataRuntime, model: string, where: Row | undefined): Row | undefined {
  const entry = rt.model(model);
  if (where === undefined || entry === undefined) return where;
  const out: Row = {};
  for (const [key, value] of Object.entries(where)) {
    const compound = isPlainObject(value) && entry.scalars[key] === undefined && entry.relations[key] === undefined && !['AND', 'OR', 'NOT'].includes(key);
    if (compound) Object.assign(out, value);
    else out[key] = value;
  }
  return out;
}
