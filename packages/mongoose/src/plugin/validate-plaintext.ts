import type { Document } from 'mongoose';
import { readPath } from './paths.js';
import { pathsToSeal } from './paths-to-seal.js';
import type { ModelContext } from './state.js';
import { validatePath } from './validation-error.js';

/**
 * Runs the validators of the paths about to be sealed on their plaintext. `save()` validated
 * already; `bulkSave()` validates only after its pre-save hooks, when the values are envelopes.
 * Honours `validateBeforeSave: false`.
 *
 * @example
 * ```ts
 * await validatePlaintext(ctx, doc); // throws Mongoose's ValidationError
 * ```
 */
export async function validatePlaintext(ctx: ModelContext, doc: Document): Promise<void> {
  const saveOptions = (doc as unknown as { $__: { saveOptions?: { validateBeforeSave?: boolean } } }).$__.saveOptions;
  if (saveOptions?.validateBeforeSave === false || ctx.schema.get('validateBeforeSave') === false) return;
  for (const path of pathsToSeal(ctx, doc)) {
    const value = readPath(doc, path);
    if (value !== null && value !== undefined) await validatePath(ctx, path, value, doc, {});
  }
}
