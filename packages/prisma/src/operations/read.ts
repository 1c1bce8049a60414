import { prepareReadArgs } from '../query/read-args.js';
import { planAt } from '../query/plan.js';
import { decryptResult } from '../result/decrypt-result.js';
import type { KeystrataRuntime } from '../extension/runtime.js';
import { unsupported } from '../query/unsupported.js';
import { labelOf, type Operation } from './context.js';

/**
 * The model a fluent read returns: `db.user.findUnique(…).posts()` reaches the hook as
 * `User.findUnique` with `select: { posts: … }`, but resolves to the posts. Prisma's own
 * `__internalParams.dataPath` (`['select', 'posts']`) names the relation path; it is walked
 * through the field map the same way Prisma's result extensions walk it.
 *
 * @example
 * ```ts
 * resultModel(rt, 'Post', ['select', 'author', 'select', 'profile']); // 'Profile'
 * ```
 */
function resultModel(rt: KeystrataRuntime, model: string, dataPath: readonly string[]): string {
  let current = model;
  for (let i = 1; i < dataPath.length; i += 2) {
    const next = rt.model(current)?.relations[dataPath[i]!]?.model;
    if (next === undefined) throw unsupported(`Cannot follow the fluent path ${dataPath.join('.')} from ${model}.`);
    current = next;
  }
  return current;
}

/**
 * findUnique / findUniqueOrThrow / findFirst / findFirstOrThrow / findMany (also fluent):
 * filters through blind indexes, then decrypts the records and their included relations.
 *
 * @example
 * ```ts
 * const users = await read(op);
 * ```
 */
export async function read(op: Operation): Promise<unknown> {
  const plan = await prepareReadArgs(op.rt, op.model, op.args);
  const result = await op.query(op.args);
  const path = op.internal.dataPath;
  await decryptResult(op.rt, resultModel(op.rt, op.model, path), result, planAt(plan, path), labelOf(op));
  return result;
}
