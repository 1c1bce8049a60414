import type { Executor } from '../extension/executor.js';
import { arrayify, isPlainObject, type Row } from '../util/plain.js';
import type { Locator } from './nodes.js';

/**
 * Reads what encrypting a nested update needs (`select`) from the records a locator points at,
 * with one query from the top-level record down the relation path. Null when the top-level
 * record does not exist; an empty list when the nested one does not.
 *
 * @example
 * ```ts
 * await locate(executor, { model: 'User', where: { id }, steps: [{ relation: 'posts', isList: true, where: { id: p } }] }, { id: true, tenantId: true });
 * ```
 */
export async function locate(executor: Executor, locator: Locator, select: Row): Promise<Row[] | null> {
  let nested: Row = { select };
  for (const step of [...locator.steps].reverse()) {
    nested = { select: { [step.relation]: step.isList && step.where !== undefined ? { where: step.where, ...nested } : nested } };
  }
  const root = await executor.run(locator.model, 'findUnique', { where: locator.where, ...nested });
  if (!isPlainObject(root)) return null;
  let level: unknown[] = [root];
  for (const step of locator.steps) level = level.flatMap((row) => (isPlainObject(row) ? arrayify(row[step.relation] ?? undefined) : []));
  return level.filter(isPlainObject);
}
