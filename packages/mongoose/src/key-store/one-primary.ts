import type { mongo } from 'mongoose';

/**
 * The one-primary rule in MongoDB and FerretDB: FerretDB 1.x has no partial indexes
 * (`partialFilterExpression` is "not implemented yet"), so a version made primary carries
 * `primary_of: <keyring>`, under a unique sparse index: a second primary of a keyring is refused
 * with a duplicate-key error (11000 on MongoDB; FerretDB refuses updates with another code).
 */
export const PRIMARY_MARK = 'primary_of';

type Versioned = { keyring: string; version: number; state: string; updated_at: string };

/**
 * Creates the unique sparse `primary_of` index of a CMK or KEK collection, after marking the primary
 * version of each keyring (stores from before the index; a keyring left with two primaries keeps
 * the newest, as the SQL store's migration does).
 *
 * @example
 * ```ts
 * await markPrimaries(collections.cmk);
 * ```
 */
export async function markPrimaries(collection: mongo.Collection<never>): Promise<void> {
  const c = collection as unknown as mongo.Collection<Versioned>;
  const primaries = await c.find({ state: 'primary' }).sort({ keyring: 1, version: -1 }).toArray();
  const seen = new Set<string>();
  for (const doc of primaries) {
    if (seen.has(doc.keyring)) await c.updateOne({ keyring: doc.keyring, version: doc.version }, { $set: { state: 'enabled' }, $unset: { [PRIMARY_MARK]: '' } } as never);
    else await c.updateOne({ keyring: doc.keyring, version: doc.version }, { $set: { [PRIMARY_MARK]: doc.keyring } } as never);
    seen.add(doc.keyring);
  }
  await c.createIndex({ [PRIMARY_MARK]: 1 }, { unique: true, sparse: true, name: 'one_primary' });
}

/**
 * Demotes a keyring's primary version and clears its mark (before another becomes primary).
 *
 * @example
 * ```ts
 * await demotePrimary(collections.kek, 'default', new Date().toISOString());
 * ```
 */
export async function demotePrimary(collection: mongo.Collection<never>, keyring: string, at: string, except?: number): Promise<void> {
  const c = collection as unknown as mongo.Collection<Versioned>;
  const others = except === undefined ? {} : { version: { $ne: except } };
  await c.updateMany({ keyring, state: 'primary', ...others }, { $set: { state: 'enabled', updated_at: at } });
  await c.updateMany({ keyring, [PRIMARY_MARK]: keyring, ...others } as never, { $unset: { [PRIMARY_MARK]: '' } } as never);
}
