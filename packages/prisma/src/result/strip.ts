import type { KeystrataRuntime } from '../extension/runtime.js';
import type { SelectionPlan } from '../query/plan.js';
import { isPlainObject } from '../util/plain.js';

/**
 * Removes the fields Keystrata added to a selection (see `ensureContextFields`) from a result,
 * level by level, so callers get exactly the shape they selected.
 *
 * @example
 * ```ts
 * stripAdded(rt, 'Patient', row, { added: ['id'], children: {} }); // row.id deleted
 * ```
 */
export function stripAdded(rt: KeystrataRuntime, model: string, value: unknown, plan: SelectionPlan): void {
  if (Array.isArray(value)) {
    for (const item of value) stripAdded(rt, model, item, plan);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const field of plan.added) delete value[field];
  const relations = rt.model(model)?.relations ?? {};
  for (const field in plan.children) {
    const relation = relations[field];
    if (relation !== undefined) stripAdded(rt, relation.model, value[field], plan.children[field]!);
  }
}
