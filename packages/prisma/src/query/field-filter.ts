import type { FieldValue } from '@keystrata/core/adapter';
import type { KeystrataRuntime } from '../extension/runtime.js';
import { isPlainObject, type Row } from '../util/plain.js';
import { unsupported } from './unsupported.js';

const isNullCheck = (filter: Row) => Object.keys(filter).every((k) => (k === 'equals' || k === 'not') && filter[k] === null);

/**
 * Rewrites a filter on an encrypted field into a filter on its blind-index column: equality
 * (`'x'`, `{ equals: 'x' }`) and `{ in: [...] }`. Null checks stay on the ciphertext column
 * (null stays null). Anything else is refused with QUERY_UNSUPPORTED.
 *
 * @example
 * ```ts
 * await rewriteFieldFilter(rt, 'Patient', { field: 'email', index: 'emailIndex' }, 'a@b.c'); // { emailIndex: 'bi1.…' }
 * ```
 */
export async function rewriteFieldFilter(rt: KeystrataRuntime, model: string, spec: { field: string; index?: string | undefined }, filter: unknown): Promise<Row> {
  const at = `${model}.${spec.field}`;
  if (filter === null || (isPlainObject(filter) && isNullCheck(filter))) return { [spec.field]: filter };
  const operators = isPlainObject(filter) ? Object.keys(filter) : ['equals'];
  const refused = operators.find((op) => op !== 'equals' && op !== 'in');
  if (refused !== undefined) throw unsupported(`${at} is encrypted: the "${refused}" filter cannot run on ciphertext (only equality and "in" through a blind index).`);
  if (spec.index === undefined) throw unsupported(`${at} is encrypted without a blind index, so it cannot be filtered; mark it \`/// @encrypted(index: <column>)\`.`);
  const out: Row = {};
  const equals = isPlainObject(filter) ? filter.equals : filter;
  if (equals !== undefined) {
    if (equals === null || (typeof equals === 'object' && !(equals instanceof Date))) throw unsupported(`${at}: only literal values can be compared through the blind index.`);
    out.equals = await rt.records.indexFor(model, spec.field, equals as FieldValue);
  }
  if (isPlainObject(filter) && filter.in !== undefined) {
    if (!Array.isArray(filter.in) || filter.in.some((v) => v === null || v === undefined)) throw unsupported(`${at}: "in" needs a list of values.`);
    out.in = await rt.records.indexesFor(model, spec.field, filter.in as FieldValue[]);
  }
  return { [spec.index]: Object.keys(out).length === 1 && out.equals !== undefined ? out.equals : out };
}
