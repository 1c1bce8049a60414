import { checkAggregates, checkDistinct, checkOrderBy } from '../query/order-by.js';
import { checkHaving } from '../query/having.js';
import { rewriteWhere } from '../query/where.js';
import { assertNoEnvelope } from '../result/envelope-guard.js';
import { labelOf, type Operation } from './context.js';

/**
 * count / aggregate / groupBy: filters through blind indexes; `_min`/`_max`/`_avg`/`_sum`,
 * `groupBy.by`, `having`, ordering and distinct on encrypted fields are refused. `_count` of
 * an encrypted field (its non-null values) works.
 *
 * @example
 * ```ts
 * await aggregate(op); // op.operation: 'count' | 'aggregate' | 'groupBy'
 * ```
 */
export async function aggregate(op: Operation): Promise<unknown> {
  const { rt, model, args } = op;
  await rewriteWhere(rt, model, args.where);
  await rewriteWhere(rt, model, args.cursor);
  checkOrderBy(rt, model, args.orderBy);
  checkDistinct(rt, model, args.distinct, 'distinct');
  checkDistinct(rt, model, args.by, 'groupBy');
  checkHaving(rt, model, args.having);
  checkAggregates(rt, model, args);
  const result = await op.query(args);
  assertNoEnvelope(result, labelOf(op));
  return result;
}
