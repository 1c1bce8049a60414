import type { TombstoneRecord } from '@keystrata/core';
import type { mongo } from 'mongoose';
import { isDuplicateKey } from './collections.js';

/** A `keystrata_tombstone` document: the columns of the SQL table, snake_case. */
export interface TombstoneDoc {
  kind: TombstoneRecord['kind'];
  id: string;
  keyring: string;
  segment: string;
  destroyed_at: string;
  durable_at: string | null;
}

/**
 * The tombstones of destroyed keys in MongoDB (`<prefix>tombstone`), unique per (kind, keyring, id).
 *
 * @example
 * ```ts
 * const tombstones = new MongoTombstones(db.collection('keystrata_tombstone'));
 * await tombstones.migrate();
 * ```
 */
export class MongoTombstones {
  constructor(private readonly collection: mongo.Collection<TombstoneDoc>) {}

  async migrate(): Promise<void> {
    await this.collection.createIndex({ kind: 1, keyring: 1, id: 1 }, { unique: true, name: 'kind_keyring_id' });
  }

  /** Inserts unless the tombstone exists (the first destruction time wins); true when it inserted. */
  async put(t: TombstoneRecord): Promise<boolean> {
    const doc: TombstoneDoc = { kind: t.kind, id: t.id, keyring: t.keyring, segment: t.segment, destroyed_at: t.destroyedAt, durable_at: t.durableAt };
    try {
      const result = await this.collection.updateOne({ kind: t.kind, keyring: t.keyring, id: t.id }, { $setOnInsert: doc }, { upsert: true });
      return result.upsertedCount === 1;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      return false;
    }
  }

  async list(keyring?: string): Promise<TombstoneRecord[]> {
    const docs = await this.collection
      .find(keyring === undefined ? {} : { keyring })
      .sort({ destroyed_at: 1, kind: 1, keyring: 1, id: 1 })
      .toArray();
    return docs.map((d) => ({ kind: d.kind, id: d.id, keyring: d.keyring, segment: d.segment, destroyedAt: d.destroyed_at, durableAt: d.durable_at ?? null }));
  }

  async markDurable(keyring: string, destroyedUpTo: string, at: string): Promise<number> {
    const result = await this.collection.updateMany({ keyring, durable_at: null, destroyed_at: { $lte: destroyedUpTo } }, { $set: { durable_at: at } });
    return result.modifiedCount;
  }

  /** Sets the tombstone back to pending, destroyed at `destroyedAt`; its segment, or undefined when there is none. */
  async reopen(kind: TombstoneRecord['kind'], keyring: string, id: string, destroyedAt: string): Promise<string | undefined> {
    const doc = await this.collection.findOneAndUpdate({ kind, keyring, id }, { $set: { durable_at: null, destroyed_at: destroyedAt } }, { returnDocument: 'after' });
    return doc === null ? undefined : doc.segment;
  }
}
