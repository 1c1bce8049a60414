import { delegateExecutor, type Executor } from '../extension/executor.js';
import { emptyPlan } from '../query/plan.js';
import { prepareReadArgs } from '../query/read-args.js';
import { unsupported } from '../query/unsupported.js';
import { decryptResult } from '../result/decrypt-result.js';
import { clonePlain, type Row } from '../util/plain.js';
import { contextOf, contextSelect } from '../write/context.js';
import { encryptWrites } from '../write/encrypt-writes.js';
import type { UpdateNode } from '../write/nodes.js';
import { prepareUpdateData } from '../write/update-data.js';
import { labelOf, type Operation } from './context.js';

async function perRow(op: Operation, executor: Executor): Promise<unknown> {
  const { rt, model, args } = op;
  const id = rt.model(model)!.id!.field;
  const { data, where, limit, ...rest } = args;
  const rows = (await executor.run(model, 'findMany', { where, select: { ...contextSelect(rt, model), [id]: true }, ...(limit === undefined ? {} : { take: limit }) })) as Row[];
  const nodes: UpdateNode[] = rows.map((row) => ({ model, data: clonePlain(data as Row), where: undefined, locator: undefined, context: contextOf(rt, model, row) }));
  await encryptWrites(rt, [], nodes);
  const tenant = rt.tenantField;
  const results = [];
  for (const [i, row] of rows.entries()) {
    const pin: Row = { [id]: row[id], ...(tenant !== undefined && row[tenant] !== undefined ? { [tenant]: row[tenant] } : {}) };
    results.push(await executor.run(model, op.operation, { ...rest, where: { AND: [where ?? {}, pin] }, data: nodes[i]!.data }));
  }
  return op.operation === 'updateMany' ? { count: results.reduce((n: number, r) => n + (r as { count: number }).count, 0) } : results.flat();
}

/**
 * updateMany / updateManyAndReturn. Without encrypted values in `data` the filter is rewritten
 * and the query runs as is. With them, every row needs its own ciphertext (bound to its id and
 * segment), so the matching rows are read (one query) and updated one by one, each pinned to
 * its id and tenant: inside the caller's interactive transaction, or else in a transaction
 * Keystrata opens. Refused inside a batch `$transaction([...])`.
 *
 * @example
 * ```ts
 * await updateMany(op); // op.operation: 'updateMany' | 'updateManyAndReturn'
 * ```
 */
export async function updateMany(op: Operation): Promise<unknown> {
  const { rt, model, args } = op;
  const plan = op.operation === 'updateManyAndReturn' ? await prepareReadArgs(rt, model, args) : (await prepareReadArgs(rt, model, { where: args.where }), emptyPlan());
  const encrypted = prepareUpdateData(rt, model, args.data as Row, undefined);
  let result: unknown;
  if (encrypted.length === 0) result = await op.query(args);
  else {
    if (rt.model(model)!.id === null) throw unsupported(`${labelOf(op)} writing encrypted fields needs a single-field id.`);
    const kind = op.internal.transaction?.kind;
    if (kind === 'batch') throw unsupported(`${labelOf(op)} writing encrypted fields cannot run inside $transaction([...]); use an interactive transaction.`);
    const base = rt.base as { $transaction: (fn: (tx: unknown) => Promise<unknown>) => Promise<unknown> };
    result = kind === 'itx' ? await perRow(op, op.executor) : await base.$transaction((tx) => perRow(op, delegateExecutor(tx)));
  }
  await decryptResult(rt, model, result, plan, labelOf(op));
  return result;
}
