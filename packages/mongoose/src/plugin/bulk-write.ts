import type { Document, Model, Schema } from 'mongoose';
import { builtIn, hooks } from './builtin.js';
import { rewriteFilter } from './filter.js';
import { alreadySealed } from './bulk-sealed.js';
import { rewriteUpdate } from './bulk-update.js';
import { sealDocuments } from './seal-documents.js';
import { sealedBatches } from './update-run.js';
import type { PluginState } from './state.js';

type Obj = Record<string, unknown>;
type Op = Record<string, Obj>;
type Base = { overwriteMiddlewareArguments(...args: unknown[]): unknown };
const PLAIN = { depopulate: true, virtuals: false, getters: false, transform: false, versionKey: true };

/**
 * `bulkWrite()`: Mongoose casts and validates ops after its pre hooks, so inserted documents are
 * built and validated here, then sealed in one batch; updates and replacements go through the
 * same rewriting as query updates (an `updateMany` of encrypted values becomes one `updateOne`
 * per document); delete filters are rewritten.
 *
 * @example
 * ```ts
 * installBulkWriteHook(schema, state);
 * ```
 */
export function installBulkWriteHook(schema: Schema, state: PluginState): void {
  hooks(schema).pre(
    'bulkWrite',
    builtIn(async function (this: Model<any>, ops: Op[], options: Obj = {}) {
      if (!Array.isArray(ops) || sealedBatches.has(ops)) return undefined;
      const ctx = await state.context(this);
      if (options._skipCastBulkWrite === true && alreadySealed(ctx, ops)) return undefined;
      const out: Op[][] = [];
      const inserts: Array<{ at: number; body: Obj; doc: Document }> = [];
      for (const op of ops) {
        const [kind, body] = Object.entries(op ?? {})[0] ?? [];
        if (kind === 'insertOne' && body) {
          const doc = new this(body.document) as Document;
          if (options.skipValidation !== true && body.skipValidation !== true) await doc.validate();
          inserts.push({ at: out.length, body, doc });
          out.push([]);
        } else if ((kind === 'updateOne' || kind === 'updateMany' || kind === 'replaceOne') && body) out.push(await rewriteUpdate(ctx, kind, body, options));
        else if ((kind === 'deleteOne' || kind === 'deleteMany') && body) out.push([{ [kind]: { ...body, filter: await rewriteFilter(ctx, (body.filter ?? {}) as Obj, null) } }]);
        else out.push([op]);
      }
      await sealDocuments(
        ctx,
        inserts.map((i) => i.doc),
      );
      for (const { at, body, doc } of inserts) out[at] = [{ insertOne: { ...body, document: doc.toObject(PLAIN) } }];
      return (this.base as unknown as Base).overwriteMiddlewareArguments(out.flat(), options);
    }),
  );
}
