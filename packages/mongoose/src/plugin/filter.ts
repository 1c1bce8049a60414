import { unsupported } from '../errors.js';
import { conditions, HINT } from './filter-conditions.js';
import { isOperatorObject } from './filter-values.js';
import type { ModelContext } from './state.js';

type Filter = Record<string, unknown>;

/** Refuses a condition on a path inside, or on an object containing, an encrypted path. */
function checkRelated(ctx: ModelContext, key: string, value: unknown): void {
  for (const f of ctx.spec.fields) {
    if (key.startsWith(`${f.path}.`)) throw unsupported(`${ctx.name}.${key}`, 'a condition inside an encrypted value', HINT);
    const existsOnly = value === null || (isOperatorObject(value) && Object.keys(value).every((k) => k === '$exists'));
    if (f.path.startsWith(`${key}.`) && !existsOnly) throw unsupported(`${ctx.name}.${key}`, 'a condition on an object holding an encrypted path', HINT);
  }
}

/** Refuses `$where`, `$expr` and `$function` that mention an encrypted path. */
function checkOpaque(ctx: ModelContext, key: string, value: unknown): void {
  const text = typeof value === 'function' ? value.toString() : (JSON.stringify(value) ?? '');
  const hit = ctx.spec.fields.find((f) => text.includes(f.path));
  if (hit !== undefined) throw unsupported(`${ctx.name}.${hit.path}`, key, HINT);
}

/**
 * Rewrites a filter for stored ciphertext: equality on an encrypted path becomes equality on its
 * blind-index path (`{ email: 'x' }` → `{ emailIndex: 'bi1.…' }`, likewise `$eq`, `$ne`, `$in`,
 * `$nin`), `null` and `$exists` stay, anything else on an encrypted path throws QUERY_UNSUPPORTED.
 * Recurses into `$and`, `$or` and `$nor`. Returns a new filter; the caller's is not modified.
 *
 * @example
 * ```ts
 * await rewriteFilter(ctx, { email: 'ada@example.com' }, query); // { emailIndex: 'bi1.…' }
 * ```
 */
export async function rewriteFilter(ctx: ModelContext, filter: Filter, scope: unknown): Promise<Filter> {
  const out: Filter = {};
  const extra: Filter[] = [];
  const put = (key: string, value: unknown): void => {
    if (key in out) extra.push({ [key]: value });
    else out[key] = value;
  };
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      out[key] = await Promise.all((value as Filter[]).map((f) => rewriteFilter(ctx, f, scope)));
    } else if (key === '$where' || key === '$expr' || key === '$function') {
      checkOpaque(ctx, key, value);
      out[key] = value;
    } else if (ctx.spec.byPath.has(key)) {
      for (const [k, v] of await conditions(ctx, ctx.spec.byPath.get(key)!, value, scope)) put(k, v);
    } else {
      if (!key.startsWith('$')) checkRelated(ctx, key, value);
      put(key, value);
    }
  }
  return extra.length === 0 ? out : { $and: [out, ...extra] };
}
