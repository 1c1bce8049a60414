import type { PolicyRecord } from '@keystrata/core';
import type { mongo } from 'mongoose';

/** A `keystrata_policy` document (`_id` = keyring): the columns of the SQL table, snake_case. */
export interface PolicyDoc {
  _id: string;
  kek_validity_s: number | null;
  dek_validity_s: number | null;
  dek_usage_limit: number | null;
  updated_at: string;
}

/** A `keystrata_dek_use` document (`_id` = DEK id): uses reserved so far. */
export interface DekUseDoc {
  _id: string;
  reserved: number;
}

/**
 * Rotation policies and DEK usage counts in MongoDB (`<prefix>policy`, `<prefix>dek_use`): a
 * reservation is one `findOneAndUpdate` with `$inc` and `upsert` per DEK, atomic on the server, so
 * no two processes get the same range of uses.
 *
 * @example
 * ```ts
 * const policies = new MongoPolicies(db, 'keystrata_');
 * await policies.reserve([{ dekId, count: 65_536 }]);
 * ```
 */
export class MongoPolicies {
  readonly #policy: mongo.Collection<PolicyDoc>;
  readonly #uses: mongo.Collection<DekUseDoc>;

  constructor(db: mongo.Db, prefix: string) {
    this.#policy = db.collection<PolicyDoc>(`${prefix}policy`);
    this.#uses = db.collection<DekUseDoc>(`${prefix}dek_use`);
  }

  async get(keyring: string): Promise<PolicyRecord | undefined> {
    const doc = await this.#policy.findOne({ _id: keyring });
    if (doc === null) return undefined;
    return { keyring, kekValiditySeconds: doc.kek_validity_s ?? null, dekValiditySeconds: doc.dek_validity_s ?? null, dekUsageLimit: doc.dek_usage_limit ?? null, updatedAt: doc.updated_at };
  }

  async put(p: PolicyRecord): Promise<void> {
    const doc = { kek_validity_s: p.kekValiditySeconds, dek_validity_s: p.dekValiditySeconds, dek_usage_limit: p.dekUsageLimit, updated_at: p.updatedAt };
    await this.#policy.replaceOne({ _id: p.keyring }, doc, { upsert: true });
  }

  async reserve(requests: ReadonlyArray<{ readonly dekId: string; readonly count: number }>): Promise<Map<string, number>> {
    const merged = new Map<string, number>();
    for (const r of requests) merged.set(r.dekId, (merged.get(r.dekId) ?? 0) + r.count);
    const totals = new Map<string, number>();
    await Promise.all(
      [...merged].map(async ([dekId, count]) => {
        const doc = await this.#uses.findOneAndUpdate({ _id: dekId }, { $inc: { reserved: count } }, { upsert: true, returnDocument: 'after' });
        if (doc !== null) totals.set(dekId, Number(doc.reserved));
      }),
    );
    return totals;
  }

  async load(ids: readonly string[]): Promise<Map<string, number>> {
    const docs = await this.#uses.find({ _id: { $in: [...new Set(ids)] } }).toArray();
    return new Map(docs.map((d) => [d._id, Number(d.reserved)]));
  }
}
