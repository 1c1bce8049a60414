import type { Executor } from '../extension/executor.js';
import type { KeystrataRuntime } from '../extension/runtime.js';
import { unsupported } from '../query/unsupported.js';
import { clonePlain, type Row } from '../util/plain.js';
import { contextOf, contextSelect } from './context.js';
import { locate } from './locate.js';
import type { UpdateManyNode, UpdateNode } from './nodes.js';

/**
 * Expands a nested updateMany that writes encrypted fields into one nested update per matching
 * row (looked up with one query), each pinned to the row's id and, under a tenant policy, its
 * tenant. Returns the resulting update nodes with their context known; null when the
 * top-level record does not exist.
 *
 * @example
 * ```ts
 * const updates = await expandUpdateMany(rt, executor, node);
 * ```
 */
export async function expandUpdateMany(rt: KeystrataRuntime, executor: Executor, node: UpdateManyNode): Promise<UpdateNode[] | null> {
  const id = rt.model(node.model)!.id;
  if (id === null) throw unsupported(`A nested updateMany writing encrypted fields of ${node.model} needs a single-field id.`);
  if (!rt.prefetch) throw unsupported(`A nested updateMany writing encrypted fields of ${node.model} needs a lookup, and prefetch is off.`);
  const rows = await locate(executor, node.locator, { ...contextSelect(rt, node.model), [id.field]: true });
  if (rows === null) return null;
  const tenant = rt.tenantField;
  const items = rows.map((row) => ({
    where: { [id.field]: row[id.field], ...(tenant !== undefined && row[tenant] !== undefined ? { [tenant]: row[tenant] } : {}) } as Row,
    data: clonePlain(node.data),
    context: contextOf(rt, node.model, row),
  }));
  node.expand(items.map(({ where, data }) => ({ where, data })));
  return items.map(({ where, data, context }) => ({ model: node.model, data, where, locator: undefined, context }));
}
