import { prepareUpdate } from './update-prepare.js';
import type { ModelContext } from './state.js';

type Obj = Record<string, unknown>;
type Op = Record<string, Obj>;

/**
 * A bulkWrite `updateOne`/`updateMany`/`replaceOne` rewritten like a query update: zero, one or
 * (for an `updateMany` of encrypted values) one pinned `updateOne` per matched document.
 *
 * @example
 * ```ts
 * const ops = await rewriteUpdate(ctx, 'updateMany', { filter: {}, update: { $set: { ssn } } }, {});
 * ```
 */
export async function rewriteUpdate(ctx: ModelContext, kind: string, body: Obj, options: Obj): Promise<Op[]> {
  const replacement = kind === 'replaceOne';
  const skipValidation = options.skipValidation === true || body.skipValidation === true;
  const prepared = await prepareUpdate(ctx, {
    filter: (body.filter ?? {}) as Obj,
    update: replacement ? body.replacement : body.update,
    replacement,
    multi: kind === 'updateMany',
    upsert: body.upsert === true,
    session: options.session,
    validate: replacement && !skipValidation,
    scope: null,
  });
  const key = replacement ? 'replacement' : 'update';
  return prepared.ops.map((op) => ({ [prepared.perDocument ? 'updateOne' : kind]: { ...body, filter: op.filter, [key]: op.update } }));
}
