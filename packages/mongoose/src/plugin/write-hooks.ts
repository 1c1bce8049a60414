import type { Document, Model, Schema } from 'mongoose';
import { builtIn, hooks } from './builtin.js';
import { restorePlaintext, sealDocuments } from './seal-documents.js';
import { validatePlaintext } from './validate-plaintext.js';
import type { PluginState } from './state.js';

type Base = { overwriteMiddlewareArguments(...args: unknown[]): unknown };
const restoreAll = (docs: unknown): void => (Array.isArray(docs) ? docs : [docs]).forEach(restorePlaintext);

/**
 * Document writes. `save()` (and `create()`, `insertOne()`, `bulkSave()`) runs the pre-save hook,
 * which validates the plaintext of the paths it seals (`bulkSave()` validates only afterwards,
 * when they are envelopes) and seals them. `insertMany()` validates after its pre hooks, so the plugin builds and
 * validates the documents itself, seals them, and Mongoose's second validation skips envelopes.
 * Plaintext is put back in the documents after the write and after a failed write.
 *
 * @example
 * ```ts
 * installWriteHooks(schema, state);
 * ```
 */
export function installWriteHooks(schema: Schema, state: PluginState): void {
  hooks(schema).pre(
    'save',
    builtIn(async function (this: Document) {
      const ctx = await state.context(this.constructor as Model<any>);
      await validatePlaintext(ctx, this);
      await sealDocuments(ctx, [this]);
    }),
  );
  hooks(schema).post(
    'save',
    builtIn((doc: Document) => {
      restorePlaintext(doc);
    }),
  );
  hooks(schema).post(
    'save',
    { errorHandler: true },
    builtIn(function (this: Document) {
      restorePlaintext(this);
    }),
  );
  hooks(schema).pre(
    'insertMany',
    builtIn(async function (this: Model<any>, input: unknown) {
      const docs = (Array.isArray(input) ? input : [input]).map((d): Document => (d instanceof this ? d : new this(d)));
      await Promise.all(docs.map((d) => d.validate()));
      await sealDocuments(await state.context(this), docs);
      return (this.base as unknown as Base).overwriteMiddlewareArguments(docs);
    }),
  );
  hooks(schema).post(
    'insertMany',
    builtIn((docs: unknown) => {
      restoreAll(docs);
    }),
  );
  hooks(schema).post(
    'insertMany',
    { errorHandler: true },
    builtIn((_error: unknown, docs: unknown) => {
      restoreAll(docs);
    }),
  );
}
