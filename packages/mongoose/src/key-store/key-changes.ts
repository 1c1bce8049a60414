import type { KeyChange, KeyChangeEntry, KeyChangePage } from '@keystrata/core';
import { KEY_CHANGE_PAGE } from '@keystrata/core/adapter';
import type { mongo } from 'mongoose';
import { isDuplicateKey } from './collections.js';

/** A `keystrata_key_change` document: `_id` is the seq. */
export interface KeyChangeDoc {
  _id: number;
  level: KeyChange['level'];
  keyring: string;
  key_id: string;
  segment: string;
  state: KeyChange['state'];
  at: string;
}

/** Attempts at taking the next seq when other processes append at the same time. */
const APPEND_ATTEMPTS = 20;

/**
 * The revocation sequence in MongoDB (`<prefix>key_change`, docs/many-instances.md). Without
 * multi-document transactions (FerretDB 1.x) an entry is appended right after the state change it
 * describes, with the next free `_id` (an insert that loses the race for a seq takes the next one),
 * so seqs are dense and a reader that saw seq N has seen every change before it.
 *
 * @example
 * ```ts
 * const changes = new MongoKeyChanges(db.collection('keystrata_key_change'));
 * await changes.append({ level: 'dek', keyring: 'default', id, segment, state: 'disabled', at });
 * ```
 */
export class MongoKeyChanges {
  constructor(private readonly collection: mongo.Collection<KeyChangeDoc>) {}

  async #latest(): Promise<number> {
    const [last] = await this.collection.find({}).sort({ _id: -1 }).limit(1).toArray();
    return last?._id ?? 0;
  }

  /** Appends one change with the next seq; returns it. */
  async append(entry: KeyChangeEntry): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const seq = (await this.#latest()) + 1;
      try {
        await this.collection.insertOne({ _id: seq, level: entry.level, keyring: entry.keyring, key_id: entry.id, segment: entry.segment, state: entry.state, at: entry.at });
        return seq;
      } catch (error) {
        if (!isDuplicateKey(error) || attempt + 1 >= APPEND_ATTEMPTS) throw error;
      }
    }
  }

  /** See `KeyStore.listKeyChanges`: one query in the steady state. */
  async list(afterSeq: number | undefined): Promise<KeyChangePage> {
    const toChange = (d: KeyChangeDoc): KeyChange => ({ seq: d._id, level: d.level, keyring: d.keyring, id: d.key_id, segment: d.segment, state: d.state, at: d.at });
    if (afterSeq === undefined) {
      const [last] = await this.collection.find({}).sort({ _id: -1 }).limit(1).toArray();
      return { changes: [], latest: last?._id ?? 0, truncated: false, anchor: last ? toChange(last) : null };
    }
    // The change at afterSeq comes along (the anchor): the caller checks it is still the one it saw.
    const changes = (
      await this.collection
        .find({ _id: { $gte: afterSeq } })
        .sort({ _id: 1 })
        .limit(KEY_CHANGE_PAGE + 2)
        .toArray()
    ).map(toChange);
    const anchor = changes[0]?.seq === afterSeq ? (changes.shift() ?? null) : null;
    if (anchor === null && afterSeq > 0) return { changes, latest: await this.#latest(), truncated: false, anchor };
    if (changes.length > KEY_CHANGE_PAGE) return { changes: [], latest: await this.#latest(), truncated: true, anchor };
    return { changes, latest: changes.at(-1)?.seq ?? afterSeq, truncated: false, anchor };
  }
}
