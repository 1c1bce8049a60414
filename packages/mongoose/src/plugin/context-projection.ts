import { isDocument, type Target } from './paths.js';
import { storedValues } from './stored-values.js';
import type { ModelContext } from './state.js';

type Projection = Record<string, unknown>;

const added = new WeakMap<object, readonly string[]>();
const on = (v: unknown): boolean => v === 1 || v === true || v === '1';
const off = (v: unknown): boolean => v === 0 || v === false || v === '0';

/** What decrypting needs beside the values: `_id` and the segment fields (every unencrypted path for a function policy, which may read any). */
function contextFields(ctx: ModelContext): string[] {
  const segment = ctx.spec.segmentFields;
  if (segment !== 'all') return ['_id', ...segment];
  const skip = (path: string) => ctx.spec.byIndex.has(path) || ctx.spec.fields.some((f) => path === f.path || path.startsWith(`${f.path}.`));
  return Object.keys(ctx.schema.paths).filter((path) => !skip(path) && !path.includes('.$'));
}

/**
 * Makes a projection that returns encrypted paths also return what decrypting them needs (the
 * segment field and `_id`), so the core always checks each value against its own document's
 * segment (issue 11 §2: a value moved into another tenant's document must fail even when only the
 * encrypted path is projected). Edits the projection in place and remembers, for `query`, what it
 * added so {@link stripAdded} removes it from the results.
 *
 * @example
 * ```ts
 * addContextProjection(ctx, query, query.projection()); // { ssn: 1 } → { ssn: 1, tenantId: 1 }
 * ```
 */
export function addContextProjection(ctx: ModelContext, query: object, projection: unknown): void {
  if (typeof projection !== 'object' || projection === null || ctx.spec.fields.length === 0) return;
  const p = projection as Projection;
  const keys = Object.keys(p).filter((k) => k !== '_id');
  const inclusive = keys.some((k) => on(p[k]));
  const selected = ctx.spec.fields.some((f) => (inclusive ? on(p[f.path]) : !off(p[f.path])));
  if (!selected || (keys.length === 0 && !off(p._id))) return;
  const extra: string[] = [];
  for (const field of contextFields(ctx)) {
    if (inclusive && !on(p[field]) && !(field === '_id' && !off(p._id))) (p[field] = 1), extra.push(field);
    else if (off(p[field])) delete p[field], extra.push(field);
  }
  if (extra.length > 0) added.set(query, extra);
}

/**
 * Removes from decrypted results what {@link addContextProjection} added to the query's projection.
 *
 * @example
 * ```ts
 * stripAdded(query, docs);
 * ```
 */
export function stripAdded(query: object, targets: readonly Target[]): void {
  const extra = added.get(query);
  if (extra === undefined) return;
  for (const target of targets) {
    const stored = isDocument(target) ? storedValues(target) : (target as Record<string, unknown>);
    if (stored !== undefined) for (const field of extra) delete stored[field];
  }
}
