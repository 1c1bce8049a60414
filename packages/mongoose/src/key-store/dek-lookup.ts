import { KeystrataError, type CmkRecord, type DekChain, type KekRecord } from '@keystrata/core';
import type { mongo } from 'mongoose';
import { chainOf, lookupPipeline } from './chains.js';
import { isNotImplemented, type KeyCollections } from './collections.js';
import type { DekDoc, KekDoc } from './documents.js';
import type { QueryCounter } from './counter.js';
import type { MetadataCache } from './metadata-cache.js';

/** How a DEK lookup gets its KEK and CMK versions. */
export type JoinMode = 'lookup' | 'cache';

/** What a DEK lookup needs from the store. */
export interface LookupDeps {
  readonly c: KeyCollections;
  readonly counter: QueryCounter;
  readonly cache: MetadataCache;
  /** Reads a keyring's KEK and CMK versions (and refills the cache). */
  refresh(keyring: string): Promise<{ keks: KekRecord[]; cmks: CmkRecord[] }>;
}

/** Selects among the matched DEKs (all of them, or the newest per segment). */
export type Pick = <T extends { dek: DekDoc }>(rows: T[]) => T[];

/**
 * Asks the server for `$lookup`: MongoDB has it, FerretDB 1.x answers NotImplemented.
 *
 * @example
 * ```ts
 * const mode = await probeJoin(deps); // 'lookup' or 'cache'
 * ```
 */
export async function probeJoin(deps: LookupDeps): Promise<JoinMode> {
  try {
    await deps.counter.run('$lookup probe', () => deps.c.dek.aggregate(lookupPipeline({ _id: '' }, deps.c.kek.collectionName, deps.c.cmk.collectionName)).toArray());
    return 'lookup';
  } catch (error) {
    if (KeystrataError.isInstance(error) && isNotImplemented(error.cause)) return 'cache';
    throw error;
  }
}

/**
 * The DEKs matching `match` with their KEK and CMK versions in one query: one `$lookup`
 * aggregation, or one `find` joined with the metadata cache (refreshed when stale or missing a
 * KEK version, which costs two more queries).
 *
 * @example
 * ```ts
 * const chains = await lookupChains(deps, 'cache', { _id: { $in: ids } }, (rows) => rows);
 * ```
 */
export async function lookupChains(deps: LookupDeps, mode: JoinMode, match: mongo.Filter<DekDoc>, pick: Pick): Promise<DekChain[]> {
  if (mode === 'lookup') {
    const pipeline = lookupPipeline(match, deps.c.kek.collectionName, deps.c.cmk.collectionName);
    const rows = await deps.counter.run('read', () => deps.c.dek.aggregate<DekDoc & { keks: KekDoc[]; cmks: never[] }>(pipeline).toArray());
    return pick(rows.map(({ keks, cmks, ...dek }) => ({ dek, keks, cmks }))).map(chainOf);
  }
  const deks = pick((await deps.counter.run('read', () => deps.c.dek.find(match).toArray())).map((dek) => ({ dek })));
  const out: DekChain[] = [];
  for (const keyring of new Set(deks.map((d) => d.dek.keyring))) {
    const mine = deks.filter((d) => d.dek.keyring === keyring);
    const meta =
      deps.cache.get(
        keyring,
        mine.map((d) => d.dek.kek_version),
      ) ?? (await deps.refresh(keyring));
    for (const { dek } of mine) out.push(chainOf({ dek, keks: meta.keks, cmks: meta.cmks }));
  }
  return out;
}
