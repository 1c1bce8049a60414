import { unsupported } from '../errors.js';
import { blindIndexes, isOperatorObject } from './filter-values.js';
import type { EncryptedPath } from './schema-spec.js';
import type { ModelContext } from './state.js';

type Filter = Record<string, unknown>;
type Clause = readonly [string, unknown];

/** What a filter may ask of an encrypted path. */
export const HINT = 'Encrypted paths support equality ($eq, $ne, $in, $nin) through their blind index, null and $exists.';

/**
 * The conditions on one encrypted path, moved to its blind-index path where they compare values;
 * `null` and `$exists` stay on the path; anything else throws QUERY_UNSUPPORTED.
 *
 * @example
 * ```ts
 * await conditions(ctx, email, { $in: ['a@x', null] }, query); // [['emailIndex', { $in: ['bi1.…', null] }]]
 * ```
 */
export async function conditions(ctx: ModelContext, field: EncryptedPath, value: unknown, scope: unknown): Promise<Clause[]> {
  const where = `${ctx.name}.${field.path}`;
  if (value === null) return [[field.path, null]];
  if (value instanceof RegExp) throw unsupported(where, '$regex', HINT);
  if (Array.isArray(value)) throw unsupported(where, 'array equality', HINT);
  if (!isOperatorObject(value)) return [[field.index ?? field.path, (await blindIndexes(ctx, field, [value], scope))[0]]];
  const onPath: Filter = {};
  const onIndex: Filter = {};
  for (const [op, operand] of Object.entries(value)) {
    // A regex inside $in/$nin/$eq/$ne would be hashed as if it were a value and match nothing (issue 12).
    if (operand instanceof RegExp || (Array.isArray(operand) && operand.some((v) => v instanceof RegExp))) throw unsupported(where, `a regular expression in ${op}`, HINT);
    if (op === '$exists' || ((op === '$eq' || op === '$ne') && operand === null)) onPath[op] = operand;
    else if (op === '$eq' || op === '$ne') onIndex[op] = (await blindIndexes(ctx, field, [operand], scope))[0];
    else if ((op === '$in' || op === '$nin') && Array.isArray(operand)) {
      const values = operand.filter((v) => v !== null);
      const indexes = values.length === 0 ? [] : await blindIndexes(ctx, field, values, scope);
      if (values.length === 0) onPath[op] = operand;
      else onIndex[op] = operand.length > values.length ? [...indexes, null] : indexes;
    } else throw unsupported(where, op, HINT);
  }
  const out: Clause[] = [];
  if (Object.keys(onPath).length > 0) out.push([field.path, onPath]);
  if (Object.keys(onIndex).length > 0) out.push([field.index!, onIndex]);
  return out;
}
