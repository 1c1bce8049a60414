import type { KeystrataRuntime } from '../extension/runtime.js';
import { isPlainObject, withCondition, type Row } from '../util/plain.js';
import { generateId } from './ids.js';
import { refuseIndexWrites } from './index-columns.js';
import type { Locator, UpdateNode, Writes } from './nodes.js';
import { walkRelationWrites } from './relation-writes.js';
import { prepareUpdateData } from './update-data.js';

/**
 * Gathers a create's `data` (and its nested creates) into `writes`. For a model with encrypted
 * fields and a `cuid()`/`uuid()`/… id default, the id is generated here, before encryption, so
 * it can be bound into the AAD. Synchronous unless `data` holds relation writes (they may look
 * records up): it returns a promise only then, so a `createMany` of flat rows awaits nothing per row.
 *
 * @example
 * ```ts
 * await walkCreate(rt, 'User', { tenantId: 't', email: 'a@b.c', posts: { create: [{ tenantId: 't', title: 'x' }] } }, writes);
 * ```
 */
export function walkCreate(rt: KeystrataRuntime, model: string, data: unknown, writes: Writes, inherited?: Row): Promise<void> | undefined {
  if (!isPlainObject(data) || !rt.touches(model)) return undefined;
  const entry = rt.model(model)!;
  const relations = rt.relationNames(model);
  if (entry.encrypted.length > 0 || relations.length > 0) {
    if (entry.id !== null && data[entry.id.field] === undefined) {
      const id = generateId(entry.id.strategy);
      if (id !== undefined) data[entry.id.field] = id;
    }
  }
  if (entry.encrypted.length > 0) {
    refuseIndexWrites(rt, model, data);
    writes.creates.push(inherited === undefined ? { model, data } : { model, data, context: inherited });
  }
  let nested: string[] | undefined;
  for (let r = 0; r < relations.length; r++) if (data[relations[r]!] !== undefined) (nested ??= []).push(relations[r]!);
  return nested === undefined ? undefined : walkNested(rt, model, nested, data, writes);
}

async function walkNested(rt: KeystrataRuntime, model: string, relations: readonly string[], data: Row, writes: Writes): Promise<void> {
  for (const relation of relations) await walkRelationWrites(rt, model, relation, data[relation], writes, undefined, data);
}

/**
 * The foreign key a child created under `parent` inherits: when the child's relation back to the
 * parent model holds one foreign-key field, it gets the parent's (known, possibly just generated) id.
 *
 * @example
 * ```ts
 * inheritedKeys(rt, 'Patient', { id: 'p1', … }, 'Visit'); // { patientId: 'p1' }
 * ```
 */
export function inheritedKeys(rt: KeystrataRuntime, parent: string, parentData: Row | undefined, child: string): Row | undefined {
  const id = rt.model(parent)?.id;
  const value = id === null || id === undefined || parentData === undefined ? undefined : parentData[id.field];
  if (value === undefined || value === null) return undefined;
  const back = Object.values(rt.model(child)!.relations).find((r) => r.model === parent && r.fields.length === 1);
  return back === undefined ? undefined : { [back.fields[0]!]: value };
}

/**
 * How an update node is reached and guarded (see {@link UpdateNode}).
 *
 * @example
 * ```ts
 * const target: UpdateTarget = { where: { id: 'p1' }, locator: undefined };
 * ```
 */
export type UpdateTarget = Pick<UpdateNode, 'where' | 'locator' | 'guard' | 'onMissing' | 'scope'>;

/**
 * Gathers an update's `data` (and its nested writes) into `writes`; records that get an
 * encrypted value become update nodes whose id / segment are resolved before encryption.
 *
 * @example
 * ```ts
 * await walkUpdate(rt, 'User', { email: 'new@b.c' }, { where, locator: { model: 'User', where, steps: [] } }, writes);
 * ```
 */
export async function walkUpdate(rt: KeystrataRuntime, model: string, data: unknown, target: UpdateTarget, writes: Writes): Promise<void> {
  if (!isPlainObject(data) || !rt.touches(model)) return;
  const entry = rt.model(model)!;
  if (prepareUpdateData(rt, model, data, target.where).length > 0) writes.updates.push({ model, data, ...target });
  for (const relation of Object.keys(entry.relations)) {
    if (data[relation] !== undefined) await walkRelationWrites(rt, model, relation, data[relation], writes, target.locator);
  }
}

/**
 * The target of a top-level update / upsert: its `where`, a locator rooted there, and (for an
 * update, not an upsert, which would create instead of failing) a guard that adds a condition to
 * `args.where`.
 *
 * @example
 * ```ts
 * await walkUpdate(rt, 'Patient', args.data, rootTarget('Patient', args, true), writes);
 * ```
 */
export function rootTarget(model: string, args: Row, guarded: boolean): UpdateTarget {
  const where = args.where as Row;
  const locator: Locator = { model, where, steps: [] };
  return { where, locator, guard: guarded ? (condition) => void (args.where = withCondition(where, condition)) : undefined };
}
