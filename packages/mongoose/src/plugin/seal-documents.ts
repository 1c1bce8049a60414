import type { Document } from 'mongoose';
import { pathsToSeal } from './paths-to-seal.js';
import { sealWrites } from './records.js';
import { segmentInputs } from './segment-inputs.js';
import type { ModelContext } from './state.js';
import { readStored, writeStored } from './stored-values.js';
import { unsupported } from '../errors.js';

/** What the plugin keeps about a document it wrote into. */
interface WriteMarks {
  /** Plaintext of the paths whose stored values are envelopes for the duration of a write. */
  pending: ReadonlyMap<string, unknown> | undefined;
  /** Blind indexes the plugin itself wrote into the document (index path → value), kept across writes. */
  indexes: Map<string, unknown> | undefined;
}

/**
 * Kept on the document under a registered symbol, as the loaded segment is (`loaded-segment.ts`):
 * one property per document instead of entries in two WeakMaps (Mongoose reads a document's
 * values from `_doc`, never its own symbol properties); both builds, when loaded together, see the
 * same marks.
 */
const MARKS = Symbol.for('keystrata.mongoose.writeMarks');

function marksOf(doc: Document, create: true): WriteMarks;
function marksOf(doc: Document, create: false): WriteMarks | undefined;
function marksOf(doc: Document, create: boolean): WriteMarks | undefined {
  if (Object.hasOwn(doc, MARKS)) return (doc as unknown as Record<symbol, WriteMarks>)[MARKS];
  if (!create) return undefined;
  const marks: WriteMarks = { pending: undefined, indexes: undefined };
  (doc as unknown as Record<symbol, WriteMarks>)[MARKS] = marks;
  return marks;
}

/**
 * Refuses documents whose blind-index path was set by the application (issue 12: a copied index
 * makes lookups of one record return another). Only the plugin writes index paths; a value it
 * wrote itself (a retried save) is accepted.
 */
function refuseIndexWrites(ctx: ModelContext, doc: Document): void {
  for (const [index, field] of ctx.spec.byIndex) {
    const value = readStored(doc, index);
    const own = marksOf(doc, false)?.indexes;
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
    id: readStored(doc, '_id'),
    record: segmentInputs(ctx, doc),
    values: new Map(paths.map((p) => [p, readStored(doc, p)])),
  }));
  const sealed = await sealWrites(ctx, items);
  work.forEach(({ doc }, i) => {
    const marks = marksOf(doc, true);
    marks.pending = items[i]!.values; // read, never changed, by sealWrites: kept as it is
    for (const [path, value] of sealed[i]!) {
      writeStored(doc, path, value);
      if (ctx.spec.byIndex.has(path)) (marks.indexes ??= new Map()).set(path, value);
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
  if (typeof doc !== 'object' || doc === null) return;
  const marks = marksOf(doc as Document, false);
  const values = marks?.pending;
  if (values === undefined) return;
  marks!.pending = undefined;
  for (const [path, value] of values) writeStored(doc as Document, path, value);
}
