import type { Aggregate, Schema } from 'mongoose';
import { builtIn, hooks } from './builtin.js';
import { rewriteFilter } from './filter.js';
import { checkSort } from './query-checks.js';
import type { PluginState } from './state.js';

/** Stages after which field names still mean the stored document's paths. */
const PASSIVE = new Set(['$match', '$sort', '$limit', '$skip', '$sample']);

/**
 * `aggregate()`: the leading `$match` stages are rewritten like query filters and leading `$sort`
 * stages on encrypted paths refused. Results are not decrypted (a pipeline can reshape anything):
 * pass them to `decryptDocument(Model, docs)`.
 *
 * @example
 * ```ts
 * installAggregateHook(schema, state);
 * ```
 */
export function installAggregateHook(schema: Schema, state: PluginState): void {
  hooks(schema).pre(
    'aggregate',
    builtIn(async function (this: Aggregate<unknown>) {
      const ctx = await state.context(this.model());
      const pipeline = this.pipeline() as unknown as Array<Record<string, unknown>>;
      for (let i = 0; i < pipeline.length; i++) {
        const stage = pipeline[i]!;
        const name = Object.keys(stage)[0] ?? '';
        if (!PASSIVE.has(name)) break;
        if (name === '$match') pipeline[i] = { $match: await rewriteFilter(ctx, stage.$match as Record<string, unknown>, null) };
        if (name === '$sort') checkSort(ctx, stage.$sort);
      }
    }),
  );
}
