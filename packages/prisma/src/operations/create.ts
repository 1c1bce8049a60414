import { emptyPlan } from '../query/plan.js';
import { prepareReadArgs } from '../query/read-args.js';
import { decryptResult } from '../result/decrypt-result.js';
import { arrayify } from '../util/plain.js';
import { encryptWrites } from '../write/encrypt-writes.js';
import { newWrites } from '../write/nodes.js';
import { walkCreate } from '../write/walk.js';
import { labelOf, type Operation } from './context.js';

/**
 * create / createMany / createManyAndReturn: encrypts every record (nested creates included)
 * before the query is sent; returned records are decrypted.
 *
 * @example
 * ```ts
 * await create(op); // op.args.data.ssn is "ks1.…" by the time Prisma sees it
 * ```
 */
export async function create(op: Operation): Promise<unknown> {
  const { rt, model, args } = op;
  const writes = newWrites();
  for (const data of arrayify(args.data)) {
    // Only rows with relation writes return a promise: flat rows are gathered without a per-row await.
    const walking = walkCreate(rt, model, data, writes);
    if (walking !== undefined) await walking;
  }
  const plan = op.operation === 'createMany' ? emptyPlan() : await prepareReadArgs(rt, model, args);
  await encryptWrites(rt, writes.creates, []);
  const result = await op.query(args);
  await decryptResult(rt, model, result, plan, labelOf(op));
  return result;
}
