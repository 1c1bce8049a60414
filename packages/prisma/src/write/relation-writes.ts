import type { KeystrataRuntime } from '../extension/runtime.js';
import { rewriteWhere } from '../query/where.js';
import { unsupported } from '../query/unsupported.js';
import { uniqueAsFilter } from '../query/unique-filter.js';
import { arrayify, isPlainObject, rowsOf, withCondition, type Row } from '../util/plain.js';
import { stepInto, type Locator, type Writes } from './nodes.js';
import { nestedUpdateMany, nestedUpsert } from './nested-ops.js';
import { inheritedKeys, walkCreate, walkUpdate } from './walk.js';

const FILTER_OPS = new Set(['connect', 'set', 'disconnect', 'delete', 'deleteMany']);

async function nestedUpdate(rt: KeystrataRuntime, ops: Row, child: string, relation: string, isList: boolean, writes: Writes, parent: Locator | undefined): Promise<void> {
  if (isList) {
    for (const item of rowsOf(ops.update)) {
      await rewriteWhere(rt, child, item.where);
      const where = item.where as Row;
      await walkUpdate(rt, child, item.data, { where, locator: stepInto(parent, relation, true, uniqueAsFilter(rt, child, where)), guard: (c) => void (item.where = withCondition(where, c)) }, writes);
    }
    return;
  }
  const value = ops.update as Row;
  const wrapped = isPlainObject(value) && isPlainObject(value.data) && Object.keys(value).every((k) => k === 'data' || k === 'where');
  if (wrapped) await rewriteWhere(rt, child, value.where);
  const data = wrapped ? value.data : value;
  const guard = (c: Row) => void (ops.update = { where: wrapped && isPlainObject(value.where) ? withCondition(value.where, c) : c, data });
  await walkUpdate(rt, child, data, { where: undefined, locator: stepInto(parent, relation, false), guard }, writes);
}

/**
 * Gathers the nested writes on one relation field (`create`, `createMany`, `connectOrCreate`,
 * `upsert`, `update`, `updateMany`, and the filters of `connect`/`set`/`disconnect`/`delete`/
 * `deleteMany`). An unknown nested operation is refused rather than passed through unencrypted.
 *
 * @example
 * ```ts
 * await walkRelationWrites(rt, 'User', 'posts', { create: [{ tenantId: 't', title: 'x' }] }, writes, locator);
 * ```
 */
export async function walkRelationWrites(rt: KeystrataRuntime, model: string, relation: string, ops: unknown, writes: Writes, parent: Locator | undefined, parentData?: Row): Promise<void> {
  const target = rt.model(model)!.relations[relation]!;
  if (!isPlainObject(ops) || !rt.touches(target.model)) return;
  const child = target.model;
  const inherited = inheritedKeys(rt, model, parentData, child);
  for (const op of Object.keys(ops)) {
    const value = ops[op];
    if (FILTER_OPS.has(op)) for (const item of arrayify(value)) await rewriteWhere(rt, child, item);
    else if (op === 'create') for (const item of arrayify(value)) await walkCreate(rt, child, item, writes, inherited);
    else if (op === 'createMany' && isPlainObject(value)) for (const item of arrayify(value.data)) await walkCreate(rt, child, item, writes, inherited);
    else if (op === 'connectOrCreate') {
      for (const item of rowsOf(value)) await rewriteWhere(rt, child, item.where), await walkCreate(rt, child, item.create, writes, inherited);
    } else if (op === 'update') await nestedUpdate(rt, ops, child, relation, target.isList, writes, parent);
    else if (op === 'upsert') await nestedUpsert(rt, ops, child, relation, target.isList, writes, parent);
    else if (op === 'updateMany') await nestedUpdateMany(rt, ops, child, relation, writes, parent);
    else throw unsupported(`Nested "${op}" on ${model}.${relation} is not supported with encrypted fields.`);
  }
}
