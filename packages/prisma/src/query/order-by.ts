import type { KeystrataRuntime } from '../extension/runtime.js';
import { arrayify, isPlainObject } from '../util/plain.js';
import { unsupported } from './unsupported.js';

const AGGREGATES = new Set(['_min', '_max', '_avg', '_sum']);

function refuseEncrypted(rt: KeystrataRuntime, model: string, fields: Iterable<string>, what: string): void {
  for (const field of fields) {
    if (rt.records.isEncrypted(model, field)) throw unsupported(`${model}.${field} is encrypted: ${what} cannot run on ciphertext.`);
  }
}

/**
 * Refuses ordering by an encrypted field (also through to-one relations, in `_relevance`, and
 * by an aggregate of one), since ciphertext order is random.
 *
 * @example
 * ```ts
 * checkOrderBy(rt, 'Patient', { email: 'asc' }); // throws QUERY_UNSUPPORTED
 * ```
 */
export function checkOrderBy(rt: KeystrataRuntime, model: string, orderBy: unknown): void {
  const entry = rt.model(model);
  if (entry === undefined || !rt.touches(model)) return;
  for (const item of arrayify(orderBy)) {
    if (!isPlainObject(item)) continue;
    for (const [key, value] of Object.entries(item)) {
      const relation = entry.relations[key];
      if (relation !== undefined && !relation.isList) checkOrderBy(rt, relation.model, value);
      else if (key === '_relevance' && isPlainObject(value)) refuseEncrypted(rt, model, arrayify(value.fields as string[]), 'full-text relevance');
      else if (AGGREGATES.has(key) && isPlainObject(value)) refuseEncrypted(rt, model, Object.keys(value), `ordering by ${key}`);
      else if (value !== undefined) refuseEncrypted(rt, model, [key], 'ordering');
    }
  }
}

/**
 * Refuses `distinct` / `groupBy.by` on encrypted fields (every ciphertext is distinct).
 *
 * @example
 * ```ts
 * checkDistinct(rt, 'Patient', ['email'], 'distinct'); // throws QUERY_UNSUPPORTED
 * ```
 */
export function checkDistinct(rt: KeystrataRuntime, model: string, fields: unknown, what: string): void {
  refuseEncrypted(
    rt,
    model,
    arrayify(fields as string | string[]).filter((f) => typeof f === 'string'),
    what,
  );
}

/**
 * Refuses `_min`/`_max`/`_avg`/`_sum` of encrypted fields; `_count` (of non-null values) works.
 *
 * @example
 * ```ts
 * checkAggregates(rt, 'Patient', { _max: { ssn: true } }); // throws QUERY_UNSUPPORTED
 * ```
 */
export function checkAggregates(rt: KeystrataRuntime, model: string, args: Record<string, unknown>): void {
  for (const key of AGGREGATES) {
    const selection = args[key];
    if (isPlainObject(selection))
      refuseEncrypted(
        rt,
        model,
        Object.keys(selection).filter((f) => selection[f]),
        `${key}`,
      );
  }
}
