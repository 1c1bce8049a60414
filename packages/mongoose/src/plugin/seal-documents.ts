import type { Document } from 'mongoose';
import { pathsToSeal } from './paths-to-seal.js';
import { readPath, writePath } from './paths.js';
import { sealWrites } from './records.js';
import { segmentInputs } from './segment-inputs.js';
import type { ModelContext } from './state.js';
import { unsupported } from '../errors.js';

/** Plaintext of documents whose stored values are envelopes for the duration of a write. */
const pending = new WeakMap<Document, Map<string, unknown>>();
/** Blind indexes the plugin itself wrote into documents (index path → value). */
const ownIndexes = new WeakMap<Document, Map<string, unknown>>();

/**
 * Refuses documents whose blind-index path was set by the application (issue 12: a copied index
 * makes lookups of one record return another). Only the plugin writes index paths; a value it
 * wrote itself (a retried save) is accepted.
 */
function refuseIndexWrites(ctx: ModelContext, doc: Document): void {
  for (const [index, field] of ctx.spec.byIndex) {
    const value = readPath(doc, index);
    const own = ownIndexes.get(doc);
    if (own?.has(index) && own.get(index) === value) continue;
    if (doc.isNew ? value !== undefined : doc.isModified(index)) {
      throw unsupported(
        `${ctx.name}.${index}`,
        'writing a blind index',
        `It is the blind index of ${field.path} and only the plugin writes it: remove ${index} and set ${field.path} instead. Nothing was written.`,
      );
    }
  }
}

/**
 * Replaces the plaintext of documents about to be written with envelopes (and fills their blind
 * indexes), in one batch; {@link restorePlaintext} puts the plaintext back after the write.
 *
 * @example
 * ```ts
 * await sealDocuments(ctx, [doc]); // doc.ssn is now 'ks1.…' until restorePlaintext(doc)
 * ```
 */
export async function sealDocuments(ctx: ModelContext, docs: readonly Document[]): Promise<void> {
  for (const doc of docs) refuseIndexWrites(ctx, doc);
  const work = docs.map((doc) => ({ doc, paths: pathsToSeal(ctx, doc) })).filter((w) => w.paths.length > 0);
  if (work.length === 0) return;
  const items = work.map(({ doc, paths }) => ({
    id: readPath(doc, '_id'),
    record: segmentInputs(ctx, doc),
    values: new Map(paths.map((p) => [p, readPath(doc, p)])),
  }));
  const sealed = await sealWrites(ctx, items);
  work.forEach(({ doc }, i) => {
    pending.set(doc, new Map(items[i]!.values));
    for (const [path, value] of sealed[i]!) {
      writePath(doc, path, value);
      if (ctx.spec.byIndex.has(path)) {
        const own = ownIndexes.get(doc) ?? new Map<string, unknown>();
        ownIndexes.set(doc, own.set(path, value));
      }
      if (!doc.isNew) doc.markModified(path);
    }
  });
}

/**
 * Puts back the plaintext a {@link sealDocuments} replaced (after the write, or its failure).
 *
 * @example
 * ```ts
 * restorePlaintext(doc); // after the write
 * ```
 */
export function restorePlaintext(doc: unknown): void {
  const values = pending.get(doc as Document);
  if (values === undefined) return;
  pending.delete(doc as Document);
  for (const [path, value] of values) writePath(doc as Document, path, value);
}
