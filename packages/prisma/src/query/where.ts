import type { KeystrataRuntime } from '../extension/runtime.js';
import { arrayify, isPlainObject, type Row } from '../util/plain.js';
import { rewriteFieldFilter } from './field-filter.js';

const LOGICAL = new Set(['AND', 'OR', 'NOT']);
const LIST_FILTERS = new Set(['some', 'every', 'none']);
const ONE_FILTERS = new Set(['is', 'isNot']);

async function rewriteRelationFilter(rt: KeystrataRuntime, target: string, isList: boolean, filter: unknown): Promise<void> {
  if (!isPlainObject(filter)) return;
  const keys = Object.keys(filter);
  const wrapped = keys.length > 0 && keys.every((k) => (isList ? LIST_FILTERS : ONE_FILTERS).has(k));
  if (isList && !wrapped) return; // not a valid list filter: Prisma's own validation rejects it
  for (const inner of wrapped ? Object.values(filter) : [filter]) await rewriteWhere(rt, target, inner);
}

/**
 * Rewrites a `where` (in place, on a copy of the caller's args) for model `model`: filters on
 * encrypted fields go through their blind index, relation filters are followed into the related
 * model, and filters that cannot run on ciphertext throw QUERY_UNSUPPORTED.
 *
 * @example
 * ```ts
 * const where = { email: 'a@b.c', tenantId: 'acme' };
 * await rewriteWhere(rt, 'Patient', where); // { tenantId: 'acme', emailIndex: 'bi1.…' }
 * ```
 */
export async function rewriteWhere(rt: KeystrataRuntime, model: string, where: unknown): Promise<void> {
  if (!isPlainObject(where) || !rt.touches(model)) return;
  const entry = rt.model(model)!;
  for (const key of Object.keys(where)) {
    const value = where[key];
    if (LOGICAL.has(key)) {
      for (const inner of arrayify(value)) await rewriteWhere(rt, model, inner);
      continue;
    }
    const relation = entry.relations[key];
    if (relation !== undefined) {
      await rewriteRelationFilter(rt, relation.model, relation.isList, value);
      continue;
    }
    const spec = entry.encrypted.find((f) => f.field === key);
    if (spec === undefined || value === undefined) continue;
    const replacement = await rewriteFieldFilter(rt, model, spec, value);
    delete where[key];
    for (const [column, filter] of Object.entries(replacement)) {
      if (where[column] === undefined) where[column] = filter;
      else where.AND = [...arrayify(where.AND as Row | Row[] | undefined), { [column]: filter }];
    }
  }
}
