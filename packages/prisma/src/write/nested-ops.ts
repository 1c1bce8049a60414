import type { KeystrataRuntime } from '../extension/runtime.js';
import { rewriteWhere } from '../query/where.js';
import { uniqueAsFilter } from '../query/unique-filter.js';
import { rowsOf, type Row } from '../util/plain.js';
import { stepInto, type Locator, type Writes } from './nodes.js';
import { prepareUpdateData } from './update-data.js';
import { walkCreate, walkUpdate } from './walk.js';

const nonEmpty = (rows: Row[]) => (rows.length === 0 ? undefined : rows);

/**
 * A nested `upsert` (list: `[{ where, create, update }]`, to-one: `{ create, update }`): the
 * create branch is encrypted as a create; if a lookup finds no record for the update branch,
 * the upsert becomes a plain nested `create`, so a concurrently created record can never
 * receive update data encrypted for another context.
 *
 * @example
 * ```ts
 * await nestedUpsert(rt, ops, 'Profile', 'profile', false, writes, locator);
 * ```
 */
export async function nestedUpsert(rt: KeystrataRuntime, ops: Row, child: string, relation: string, isList: boolean, writes: Writes, parent: Locator | undefined): Promise<void> {
  for (const item of rowsOf(ops.upsert)) {
    await rewriteWhere(rt, child, item.where);
    await walkCreate(rt, child, item.create, writes);
    const onMissing = () => {
      ops.upsert = isList ? nonEmpty(rowsOf(ops.upsert).filter((u) => u !== item)) : undefined;
      ops.create = isList ? [...rowsOf(ops.create), item.create as Row] : item.create;
    };
    const where = isList ? (item.where as Row | undefined) : undefined;
    const scope = {};
    const stepped = stepInto(parent, relation, isList, uniqueAsFilter(rt, child, where));
    const locator = stepped && { ...stepped, scopes: [...(stepped.scopes ?? []), scope] };
    const before = writes.updates.length;
    await walkUpdate(rt, child, item.update, { where, locator, onMissing, scope }, writes);
    const own = writes.updates[before]?.scope === scope;
    if (writes.updates.length > before + (own ? 1 : 0)) writes.updates.splice(before, 0, { model: child, data: {}, where, locator, onMissing, scope, presence: true });
  }
}

/**
 * A nested `updateMany`: when its data writes an encrypted field, every matching row needs its
 * own ciphertext (bound to its id and segment), so it is expanded into one nested `update` per
 * row after a lookup; otherwise only its filter is rewritten.
 *
 * @example
 * ```ts
 * await nestedUpdateMany(rt, ops, 'Post', 'posts', writes, locator);
 * ```
 */
export async function nestedUpdateMany(rt: KeystrataRuntime, ops: Row, child: string, relation: string, writes: Writes, parent: Locator | undefined): Promise<void> {
  for (const item of rowsOf(ops.updateMany)) {
    await rewriteWhere(rt, child, item.where);
    const data = item.data as Row;
    if (prepareUpdateData(rt, child, data, undefined).length === 0 || parent === undefined) continue;
    const expand = (rows: ReadonlyArray<{ where: Row; data: Row }>) => {
      ops.updateMany = nonEmpty(rowsOf(ops.updateMany).filter((u) => u !== item));
      ops.update = nonEmpty([...rowsOf(ops.update), ...rows]);
    };
    writes.many.push({ model: child, data, locator: stepInto(parent, relation, true, (item.where as Row | undefined) ?? {})!, expand });
  }
}
