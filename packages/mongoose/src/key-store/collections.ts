import type { mongo } from 'mongoose';
import type { AuditDoc, CmkDoc, DekDoc, JobDoc, KekDoc, LeaseDoc } from './documents.js';

/** The key-store collections, named like the SQL tables (`keystrata_cmk`, …) with an optional prefix. */
export interface KeyCollections {
  readonly cmk: mongo.Collection<CmkDoc>;
  readonly kek: mongo.Collection<KekDoc>;
  readonly dek: mongo.Collection<DekDoc>;
  readonly audit: mongo.Collection<AuditDoc>;
  readonly job: mongo.Collection<JobDoc>;
  readonly lease: mongo.Collection<LeaseDoc>;
}

/**
 * Opens the collections of a key store in `db`.
 *
 * @example
 * ```ts
 * const c = keyCollections(db, 'keystrata_'); // c.dek is keystrata_dek
 * ```
 */
export function keyCollections(db: mongo.Db, prefix: string): KeyCollections {
  return {
    cmk: db.collection<CmkDoc>(`${prefix}cmk`),
    kek: db.collection<KekDoc>(`${prefix}kek`),
    dek: db.collection<DekDoc>(`${prefix}dek`),
    audit: db.collection<AuditDoc>(`${prefix}audit`),
    job: db.collection<JobDoc>(`${prefix}job`),
    lease: db.collection<LeaseDoc>(`${prefix}lease`),
  };
}

/**
 * Creates the unique indexes that carry the SQL schema's keys, idempotently: CMK and KEK versions
 * unique per keyring, DEK ids (`_id`) and (keyring, segment, version) unique, audit `seq` (`_id`).
 *
 * @example
 * ```ts
 * await createKeyIndexes(keyCollections(db, 'keystrata_'));
 * ```
 */
export async function createKeyIndexes(c: KeyCollections): Promise<void> {
  await c.cmk.createIndex({ keyring: 1, version: 1 }, { unique: true, name: 'keyring_version' });
  await c.kek.createIndex({ keyring: 1, version: 1 }, { unique: true, name: 'keyring_version' });
  await c.dek.createIndex({ keyring: 1, segment: 1, version: 1 }, { unique: true, name: 'keyring_segment_version' });
  await c.dek.createIndex({ keyring: 1, kek_version: 1 }, { name: 'keyring_kek_version' });
}

/**
 * True for a MongoDB duplicate-key error (E11000).
 *
 * @example
 * ```ts
 * if (isDuplicateKey(error)) return false;
 * ```
 */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * True when the server does not implement an aggregation stage (FerretDB answers NotImplemented, 238).
 *
 * @example
 * ```ts
 * if (isNotImplemented(error)) mode = 'cache';
 * ```
 */
export function isNotImplemented(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 238 || code === 115 || code === 40324;
}
