import type { Executor } from '../extension/executor.js';
import type { KeystrataRuntime } from '../extension/runtime.js';
import { unsupported } from '../query/unsupported.js';
import { contextOf, contextSelect, knownContext } from './context.js';
import { expandUpdateMany } from './expand-many.js';
import { locate } from './locate.js';
import type { UpdateNode, Writes } from './nodes.js';
import { notFound } from './not-found.js';

const ROOT_MISSING = Symbol('root-missing');
const DROPPED = Symbol('dropped');

async function resolveOne(rt: KeystrataRuntime, executor: Executor, node: UpdateNode): Promise<UpdateNode | null | typeof ROOT_MISSING | typeof DROPPED> {
  if (node.context !== undefined) return node;
  const known = knownContext(rt, node);
  if (known.complete && !node.presence) return { ...node, context: known.row };
  const missing = rt.contextFields(node.model).filter((f) => known.row[f] === undefined);
  if (!rt.prefetch || node.locator === undefined) {
    throw unsupported(`Updating encrypted fields of ${node.model} needs ${missing.join(' and ') || 'the segment inputs'} in \`where\` or \`data\` (prefetch is off).`);
  }
  const rows = await locate(executor, node.locator, contextSelect(rt, node.model));
  if (rows === null) return ROOT_MISSING;
  const row = rows[0];
  if (row === undefined) {
    if (node.onMissing === undefined) throw notFound(node.model, 'nested update');
    node.onMissing();
    return DROPPED;
  }
  if (node.presence) return null;
  const tenant = rt.tenantField;
  if (tenant !== undefined && known.row[tenant] === undefined && row[tenant] !== undefined) node.guard?.({ [tenant]: row[tenant] });
  return { ...node, context: { ...contextOf(rt, node.model, row), ...known.row } };
}

/**
 * Gives every update node the id / segment fields its encryption needs: from its own `data` or
 * `where`, else with one lookup per node (the documented extra query; `prefetch: false` fails
 * closed instead). Expands nested updateMany nodes. A nested upsert whose record is missing
 * becomes a create, and the writes under its update branch are dropped. Returns the nodes to encrypt, or null when
 * the top-level record does not exist and `rootOptional` (an upsert that will create instead).
 *
 * @example
 * ```ts
 * const updates = await resolveUpdates(rt, executor, writes, false);
 * ```
 */
export async function resolveUpdates(rt: KeystrataRuntime, executor: Executor, writes: Writes, rootOptional: boolean): Promise<UpdateNode[] | null> {
  const pending = [...writes.updates];
  for (const node of writes.many) {
    const expanded = await expandUpdateMany(rt, executor, node);
    if (expanded === null) return rootMissing(rootOptional, node.locator.model);
    pending.push(...expanded);
  }
  const resolved: UpdateNode[] = [];
  const dropped = new Set<object>();
  for (const node of pending) {
    if (node.locator?.scopes?.some((scope) => dropped.has(scope))) continue;
    const result = await resolveOne(rt, executor, node);
    if (result === ROOT_MISSING) return rootMissing(rootOptional, node.locator!.model);
    if (result === DROPPED) dropped.add(node.scope!);
    else if (result !== null) resolved.push(result);
  }
  return resolved;
}

function rootMissing(rootOptional: boolean, model: string): null {
  if (rootOptional) return null;
  throw notFound(model, 'update');
}
