import { KeystrataError, type ReencryptionHook, type ReencryptionRecord, type ReencryptionUpdate } from '@keystrata/core';
import { isEnvelope } from '@keystrata/core/adapter';
import type { Model } from 'mongoose';
import { getPath } from './plugin/paths.js';
import { stateOf } from './plugin/plugin.js';
import type { ModelContext } from './plugin/state.js';
import { writeChunks } from './plugin/write-chunks.js';
import { castId, inSegment, segmentFilter } from './reencryption-segment.js';

type Obj = Record<string, unknown>;

async function contextOf(model: Model<any>): Promise<ModelContext> {
  const state = stateOf(model?.schema);
  if (state === undefined) throw new KeystrataError('CONFIG_INVALID', 'mongooseReencryptionHook needs a model whose schema uses the keystrata plugin.');
  return state.context(model);
}

function recordOf(ctx: ModelContext, doc: Obj, keyring: string, segment: string): ReencryptionRecord {
  const id = String(doc._id);
  const recordId = ctx.options.bindRecordId === false ? undefined : id;
  const fields = ctx.spec.fields.flatMap((f) => {
    const ciphertext = getPath(doc, f.path);
    return isEnvelope(ciphertext) ? [{ field: f.path, ciphertext, context: { model: ctx.name, field: f.path, recordId, segment, keyring } }] : [];
  });
  return { id, fields };
}

/** One compare-and-swap write: matches only while every field still holds its previous ciphertext. */
const casWrite = (ctx: ModelContext, u: ReencryptionUpdate): Obj => ({
  updateOne: {
    filter: { _id: castId(ctx, u.id), ...Object.fromEntries(u.fields.map((f) => [f.field, f.previous])) },
    update: { $set: Object.fromEntries(u.fields.map((f) => [f.field, f.next])) },
  },
});

/**
 * The core's {@link ReencryptionHook} for a Mongoose model, for `hierarchy.rotateDek`: scans the
 * segment's documents in `_id` order with the raw driver (no plugin hooks) and writes each new
 * ciphertext only where the stored one is still the previous (compare-and-swap), so a concurrent
 * application write is never overwritten. Writes go in ordered commands of at most 50 documents
 * (FerretDB 1.24 hangs on larger ones) and return how many documents changed. A failing command
 * throws (the rotation's cursor does not advance, so a rerun resumes). Blind indexes do not change.
 *
 * @example
 * ```ts
 * await hierarchy.rotateDek({ segment: 'tenantId:acme', hook: mongooseReencryptionHook(Patient), oldKeys: 'destroy' });
 * ```
 */
export function mongooseReencryptionHook(model: Model<any>): ReencryptionHook {
  // A keyring chosen per document (a function) may hold any segment: scan whatever keyring rotates.
  const keyringOf = (ctx: ModelContext, asked: string): string => (typeof ctx.options.keyring === 'function' ? asked : (ctx.options.keyring ?? ctx.hierarchy.defaultKeyring));
  return {
    async scan({ keyring, segment, cursor, limit }) {
      const ctx = await contextOf(model);
      const filter = keyringOf(ctx, keyring) === keyring ? segmentFilter(ctx, segment) : null;
      if (filter === null) return { records: [], cursor: null };
      const page = { ...filter, ...(cursor === null ? {} : { $and: [{ _id: { $gt: castId(ctx, cursor) } }] }) };
      const docs = (await model.collection.find(page as never, { sort: { _id: 1 }, limit }).toArray()) as Obj[];
      const records = docs
        .filter((d) => inSegment(ctx, d, segment))
        .map((d) => recordOf(ctx, d, keyring, segment))
        .filter((r) => r.fields.length > 0);
      return { records, cursor: docs.length < limit ? null : String(docs.at(-1)!._id) };
    },
    async write(updates) {
      if (updates.length === 0) return 0;
      const ctx = await contextOf(model);
      let modified = 0;
      for (const chunk of writeChunks(updates.map((u) => casWrite(ctx, u)))) modified += (await model.collection.bulkWrite(chunk as never)).modifiedCount;
      return modified;
    },
    async count({ keyring, segment }) {
      const ctx = await contextOf(model);
      const filter = keyringOf(ctx, keyring) === keyring ? segmentFilter(ctx, segment) : null;
      return filter === null ? 0 : model.collection.countDocuments(filter as never);
    },
  };
}
