import type { CmkRecord, DekChain, KekRecord } from '@keystrata/core';
import { cmkFromDoc, dekFromDoc, kekFromDoc, type CmkDoc, type DekDoc, type KekDoc } from './documents.js';

/** A DEK document with the KEK and CMK versions of its keyring, as `$lookup` or the cache supplies them. */
export interface JoinedDek {
  readonly dek: DekDoc;
  readonly keks: readonly (KekDoc | KekRecord)[];
  readonly cmks: readonly (CmkDoc | CmkRecord)[];
}

const kekOf = (k: KekDoc | KekRecord): KekRecord => ('cmk_version' in k ? kekFromDoc(k) : k);
const cmkOf = (c: CmkDoc | CmkRecord): CmkRecord => ('hsm_label' in c ? cmkFromDoc(c) : c);

/**
 * Picks a DEK's KEK version and that KEK's CMK version: the SQL LEFT JOINs, in memory.
 *
 * @example
 * ```ts
 * chainOf({ dek: dekDoc, keks: [kekDoc], cmks: [cmkDoc] }); // { dek, kek, cmk }
 * ```
 */
export function chainOf({ dek, keks, cmks }: JoinedDek): DekChain {
  const kek = keks.map(kekOf).find((k) => k.keyring === dek.keyring && k.version === dek.kek_version);
  const cmk = kek && cmks.map(cmkOf).find((c) => c.keyring === kek.keyring && c.version === kek.cmkVersion);
  return { dek: dekFromDoc(dek), kek, cmk };
}

/**
 * The newest version of each segment among `deks` (the SQL `MAX(version)` subquery).
 *
 * @example
 * ```ts
 * latestPerSegment([{ dek: v1 }, { dek: v2 }]); // [{ dek: v2 }]
 * ```
 */
export function latestPerSegment<T extends { dek: DekDoc }>(rows: readonly T[]): T[] {
  const latest = new Map<string, T>();
  for (const row of rows) {
    const seen = latest.get(row.dek.segment);
    if (seen === undefined || seen.dek.version < row.dek.version) latest.set(row.dek.segment, row);
  }
  return [...latest.values()];
}

/**
 * The aggregation that joins DEKs to their keyring's KEK and CMK versions in one round trip.
 *
 * @example
 * ```ts
 * collection.aggregate(lookupPipeline({ _id: { $in: ids } }, 'keystrata_kek', 'keystrata_cmk'));
 * ```
 */
export function lookupPipeline(match: object, kekCollection: string, cmkCollection: string): object[] {
  return [
    { $match: match },
    { $lookup: { from: kekCollection, localField: 'keyring', foreignField: 'keyring', as: 'keks' } },
    { $lookup: { from: cmkCollection, localField: 'keyring', foreignField: 'keyring', as: 'cmks' } },
  ];
}
