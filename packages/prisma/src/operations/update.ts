import { unsupported } from '../query/unsupported.js';
import { prepareReadArgs } from '../query/read-args.js';
import type { SelectionPlan } from '../query/plan.js';
import { decryptResult } from '../result/decrypt-result.js';
import type { Row } from '../util/plain.js';
import { encryptWrites } from '../write/encrypt-writes.js';
import { newWrites } from '../write/nodes.js';
import { resolveUpdates } from '../write/resolve-updates.js';
import { rootTarget, walkCreate, walkUpdate } from '../write/walk.js';
import { labelOf, type Operation } from './context.js';

async function upsertAsCreate(op: Operation, plan: SelectionPlan): Promise<unknown> {
  if (op.internal.transaction?.kind === 'batch')
    throw unsupported(
      `${labelOf(op)} of a record that does not exist yet, writing encrypted fields without their context, cannot run inside $transaction([...]); use an interactive transaction or include the id and segment field in where.`,
    );
  const writes = newWrites();
  await walkCreate(op.rt, op.model, op.args.create, writes);
  await encryptWrites(op.rt, writes.creates, []);
  const { select, include, omit } = op.args;
  const args: Row = { data: op.args.create, ...(select ? { select } : {}), ...(include ? { include } : {}), ...(omit ? { omit } : {}) };
  const result = await op.executor.run(op.model, 'create', args);
  await decryptResult(op.rt, op.model, result, plan, labelOf(op));
  return result;
}

/**
 * update / upsert: the update data (and nested writes) is encrypted bound to the record's id
 * and segment, read first when `where`/`data` lack them; an upsert whose record does not exist
 * runs as a create. Both branches of an upsert are encrypted.
 *
 * @example
 * ```ts
 * await update(op); // op.operation: 'update' | 'upsert'
 * ```
 */
export async function update(op: Operation): Promise<unknown> {
  const { rt, model, args } = op;
  const upsert = op.operation === 'upsert';
  const plan = await prepareReadArgs(rt, model, args);
  const writes = newWrites();
  await walkUpdate(rt, model, upsert ? args.update : args.data, rootTarget(model, args, !upsert), writes);
  const updates = await resolveUpdates(rt, op.executor, writes, upsert);
  if (updates === null) return upsertAsCreate(op, plan);
  const creates = newWrites();
  if (upsert) await walkCreate(rt, model, args.create, creates);
  await encryptWrites(rt, [...writes.creates, ...creates.creates], updates);
  const result = await op.query(args);
  await decryptResult(rt, model, result, plan, labelOf(op));
  return result;
}
