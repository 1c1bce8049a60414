import type { KeystrataRuntime } from '../extension/runtime.js';
import { isPlainObject, type Row } from '../util/plain.js';
import { checkDistinct, checkOrderBy } from './order-by.js';
import type { SelectionPlan } from './plan.js';
import { ensureContextFields } from './selection.js';
import { rewriteWhere } from './where.js';

async function prepareCount(rt: KeystrataRuntime, model: string, count: unknown): Promise<void> {
  if (!isPlainObject(count) || !isPlainObject(count.select)) return;
  const relations = rt.model(model)?.relations ?? {};
  for (const [rel, value] of Object.entries(count.select)) {
    const target = relations[rel];
    if (target !== undefined && isPlainObject(value)) await rewriteWhere(rt, target.model, value.where);
  }
}

async function prepareRelations(rt: KeystrataRuntime, model: string, selection: unknown, plan: SelectionPlan): Promise<void> {
  if (!isPlainObject(selection)) return;
  const relations = rt.model(model)?.relations ?? {};
  for (const [key, value] of Object.entries(selection)) {
    if (key === '_count') await prepareCount(rt, model, value);
    const target = relations[key];
    if (target !== undefined && isPlainObject(value)) plan.children[key] = await prepareReadArgs(rt, target.model, value);
  }
}

/**
 * Prepares the arguments of a read (or of the returned record of a write) for `model`, in
 * place: filters through blind indexes (also in nested `include`/`select` and `_count`), refuses
 * ordering/distinct on encrypted fields, and adds the fields decrypting needs to selections.
 * Returns what was added, per relation, to strip from the result.
 *
 * @example
 * ```ts
 * const plan = await prepareReadArgs(rt, 'User', { where: { email: 'a@b.c' }, include: { posts: { where: { title: 'x' } } } });
 * ```
 */
export async function prepareReadArgs(rt: KeystrataRuntime, model: string, args: Row): Promise<SelectionPlan> {
  await rewriteWhere(rt, model, args.where);
  await rewriteWhere(rt, model, args.cursor);
  checkOrderBy(rt, model, args.orderBy);
  checkDistinct(rt, model, args.distinct, 'distinct');
  const plan = ensureContextFields(rt, model, args);
  await prepareRelations(rt, model, args.select, plan);
  await prepareRelations(rt, model, args.include, plan);
  return plan;
}
