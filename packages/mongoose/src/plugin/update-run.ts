import type { Model } from 'mongoose';
import { writeChunks } from './write-chunks.js';

/** bulkWrite op arrays the plugin built itself (already sealed): its bulkWrite hook lets them through. */
export const sealedBatches = new WeakSet<object>();

/**
 * Runs a multi-document update as one pinned `updateOne` per document, through Mongoose's
 * bulkWrite (so other paths are cast and timestamps applied as for the original update) in
 * ordered commands of at most 50 operations ({@link writeChunks}), and reports it as one
 * updateMany result. A failing command stops the run and throws; earlier commands stay written.
 *
 * @example
 * ```ts
 * await runPerDocument(Patient, prepared.ops, query.getOptions()); // { matchedCount, modifiedCount, … }
 * ```
 */
export async function runPerDocument(model: Model<any>, ops: ReadonlyArray<{ filter: object; update: unknown }>, options: Record<string, unknown>): Promise<unknown> {
  const pass = Object.fromEntries(['session', 'timestamps', 'strict'].filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
  const total = { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 };
  for (const chunk of writeChunks(ops)) {
    const batch = chunk.map((op) => ({ updateOne: { filter: op.filter, update: op.update } }));
    sealedBatches.add(batch);
    const res = await model.bulkWrite(batch as never, pass);
    total.matchedCount += res.matchedCount;
    total.modifiedCount += res.modifiedCount;
    total.upsertedCount += res.upsertedCount;
  }
  return { acknowledged: true, ...total, upsertedId: null };
}
