import type { Model } from 'mongoose';

/** bulkWrite op arrays the plugin built itself (already sealed): its bulkWrite hook lets them through. */
export const sealedBatches = new WeakSet<object>();

/**
 * Runs a multi-document update as one pinned `updateOne` per document, in one bulkWrite through
 * Mongoose (so other paths are cast and timestamps applied as for the original update), and
 * reports it as an updateMany result.
 *
 * @example
 * ```ts
 * await runPerDocument(Patient, prepared.ops, query.getOptions()); // { matchedCount, modifiedCount, … }
 * ```
 */
export async function runPerDocument(model: Model<any>, ops: ReadonlyArray<{ filter: object; update: unknown }>, options: Record<string, unknown>): Promise<unknown> {
  const batch = ops.map((op) => ({ updateOne: { filter: op.filter, update: op.update } }));
  sealedBatches.add(batch);
  const pass = Object.fromEntries(['session', 'timestamps', 'strict'].filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
  const res = await model.bulkWrite(batch as never, pass);
  return { acknowledged: true, matchedCount: res.matchedCount, modifiedCount: res.modifiedCount, upsertedCount: res.upsertedCount, upsertedId: null };
}
