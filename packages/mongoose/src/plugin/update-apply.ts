import type { Model, Query } from 'mongoose';
import type { PreparedUpdate } from './update-prepare.js';
import { runPerDocument } from './update-run.js';

type AnyQuery = Query<unknown, unknown> & { op?: string };
type Base = { skipMiddlewareFunction(result: unknown): unknown };

const EMPTY_WRITE = { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null };

/** What an update that matched nothing returns. */
function emptyResult(query: AnyQuery): unknown {
  if (!query.op?.startsWith('findOneAnd')) return EMPTY_WRITE;
  return query.getOptions().includeResultMetadata ? { value: null, ok: 1, lastErrorObject: { n: 0, updatedExisting: false } } : null;
}

/**
 * Applies a prepared update to its query: the rewritten filter and update when it stays one
 * operation; otherwise the query is skipped (Mongoose returns `result`): with an empty result when
 * nothing matched, or with the combined result of the per-document writes.
 *
 * @example
 * ```ts
 * await applyPrepared(query, prepared, query.model.base, query.model);
 * ```
 */
export async function applyPrepared(query: AnyQuery, prepared: PreparedUpdate, base: Base, model: Model<any>): Promise<void> {
  if (!prepared.perDocument && prepared.ops.length === 1) {
    query.setQuery(prepared.ops[0]!.filter);
    query.setUpdate(prepared.ops[0]!.update as Record<string, unknown>);
    return;
  }
  let result = prepared.ops.length === 0 ? emptyResult(query) : await runPerDocument(model, prepared.ops, query.getOptions());
  // Mongoose does not run the query's transforms (orFail() among them) on a skipped result: run them here.
  for (const transform of (query as unknown as { _transforms?: Array<(r: unknown) => unknown> })._transforms ?? []) result = transform(result);
  throw base.skipMiddlewareFunction(result);
}
