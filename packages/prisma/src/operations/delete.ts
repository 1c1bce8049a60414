import { prepareReadArgs } from '../query/read-args.js';
import { rewriteWhere } from '../query/where.js';
import { decryptResult } from '../result/decrypt-result.js';
import { emptyPlan } from '../query/plan.js';
import { labelOf, type Operation } from './context.js';

/**
 * delete / deleteMany: filters through blind indexes; the deleted record is decrypted.
 *
 * @example
 * ```ts
 * await remove(op); // op.operation: 'delete' | 'deleteMany'
 * ```
 */
export async function remove(op: Operation): Promise<unknown> {
  const { rt, model, args } = op;
  const plan = op.operation === 'delete' ? await prepareReadArgs(rt, model, args) : (await rewriteWhere(rt, model, args.where), emptyPlan());
  const result = await op.query(args);
  await decryptResult(rt, model, result, plan, labelOf(op));
  return result;
}
