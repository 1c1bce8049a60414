import type { Query, Schema } from 'mongoose';
import { builtIn, hooks } from './builtin.js';
import { rewriteFilter } from './filter.js';
import { checkDistinct, checkProjection, checkSort } from './query-checks.js';
import { decryptResult, resultTargets } from './results.js';
import { addContextProjection, stripAdded } from './context-projection.js';
import type { PluginState } from './state.js';

type AnyQuery = Query<unknown, unknown> & { _distinct?: unknown; op?: string };

const FILTERED = ['find', 'findOne', 'countDocuments', 'distinct', 'deleteOne', 'deleteMany', 'findOneAndDelete'] as const;
const RETURNING = ['find', 'findOne', 'findOneAndUpdate', 'findOneAndReplace', 'findOneAndDelete'] as const;

/**
 * Rewrites a read's filter for ciphertext and refuses sort, projection and distinct that cannot work.
 *
 * @example
 * ```ts
 * schema.pre('find', async function () { await prepareRead(state, this); });
 * ```
 */
async function prepareRead(state: PluginState, query: AnyQuery): Promise<void> {
  const ctx = await state.context(query.model);
  checkSort(ctx, query.getOptions().sort);
  checkProjection(ctx, query.projection());
  if ((RETURNING as readonly string[]).includes(query.op ?? '')) addContextProjection(ctx, query, query.projection());
  if (query.op === 'distinct') checkDistinct(ctx, query._distinct);
  query.setQuery(await rewriteFilter(ctx, query.getFilter() ?? {}, query));
}

/**
 * Query hooks: filters rewritten before every read and delete, results (documents, lean objects,
 * cursor documents, populated documents) decrypted after.
 *
 * @example
 * ```ts
 * installReadHooks(schema, state);
 * ```
 */
export function installReadHooks(schema: Schema, state: PluginState): void {
  hooks(schema).pre(
    [...FILTERED],
    { document: false, query: true },
    builtIn(async function (this: AnyQuery) {
      await prepareRead(state, this);
    }),
  );
  hooks(schema).post(
    [...RETURNING],
    { document: false, query: true },
    builtIn(async function (this: AnyQuery, res: unknown) {
      await decryptResult(state, this.model, res);
      stripAdded(this, resultTargets(res));
    }),
  );
}
