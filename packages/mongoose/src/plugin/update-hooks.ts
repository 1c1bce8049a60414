import type { Query, Schema } from 'mongoose';
import { builtIn, hooks } from './builtin.js';
import { checkSort } from './query-checks.js';
import { applyPrepared } from './update-apply.js';
import { prepareUpdate } from './update-prepare.js';
import type { PluginState } from './state.js';

type AnyQuery = Query<unknown, unknown> & { op?: string };
type Base = { options: Record<string, unknown> } & Parameters<typeof applyPrepared>[2];

const KINDS = {
  updateOne: { replacement: false, multi: false },
  updateMany: { replacement: false, multi: true },
  findOneAndUpdate: { replacement: false, multi: false },
  replaceOne: { replacement: true, multi: false },
  findOneAndReplace: { replacement: true, multi: false },
} as const;
type Kind = keyof typeof KINDS;

/**
 * Query updates: the filter is rewritten, encrypted values are cast, validated (with
 * `runValidators`) and sealed for the document(s) they land in; an `updateMany` of encrypted
 * values becomes one pinned `updateOne` per matched document (one bulkWrite).
 *
 * @example
 * ```ts
 * installUpdateHooks(schema, state);
 * ```
 */
export function installUpdateHooks(schema: Schema, state: PluginState): void {
  hooks(schema).pre(
    Object.keys(KINDS),
    { document: false, query: true },
    builtIn(async function (this: AnyQuery) {
      const ctx = await state.context(this.model);
      const options = this.getOptions();
      const base = this.model.base as unknown as Base;
      checkSort(ctx, options.sort);
      const prepared = await prepareUpdate(ctx, {
        filter: this.getFilter(),
        update: this.getUpdate(),
        ...KINDS[this.op as Kind],
        upsert: options.upsert === true,
        sort: options.sort,
        session: options.session,
        scope: this,
        validate: Boolean(options.runValidators ?? base.options.runValidators ?? false),
      });
      await applyPrepared(this, prepared, base, this.model);
    }),
  );
}
