import {
  KeystrataError,
  type AuditRecord,
  type CmkRecord,
  type DekChain,
  type DekCount,
  type DekQuery,
  type DekRecord,
  type JobRecord,
  type KekRecord,
  type KeyChangeEntry,
  type KeyChangePage,
  type KeyState,
  type KeyStore,
  type LeaseRecord,
  type PolicyRecord,
  type TombstoneRecord,
} from '@keystrata/core';
import type { mongo } from 'mongoose';
import { appendAudit } from './audit-append.js';
import { latestPerSegment } from './chains.js';
import { createKeyIndexes, isDuplicateKey, keyCollections, type KeyCollections } from './collections.js';
import { QueryCounter } from './counter.js';
import { lookupChains, probeJoin, type JoinMode, type LookupDeps, type Pick } from './dek-lookup.js';
import { auditFromDoc, cmkFromDoc, cmkToDoc, dekFromDoc, dekToDoc, jobFromDoc, kekFromDoc, kekToDoc, type DekDoc } from './documents.js';
import { MetadataCache } from './metadata-cache.js';
import { MongoTombstones, type TombstoneDoc } from './tombstones.js';
import { MongoKeyChanges, type KeyChangeDoc } from './key-changes.js';
import { MongoPolicies } from './policies.js';
import { demotePrimary, markPrimaries, PRIMARY_MARK } from './one-primary.js';
import { AsyncMutex as Mutex } from '@keystrata/core/adapter';

/**
 * Options of {@link MongoKeyStore}.
 *
 * @example
 * ```ts
 * new MongoKeyStore(db, { prefix: 'keys_', join: 'auto', metadataMaxAgeMs: 2_000 });
 * ```
 */
export interface MongoKeyStoreOptions {
  /** Prefix of the collection names (default `keystrata_`: `keystrata_cmk`, `keystrata_kek`, …). */
  readonly prefix?: string;
  /**
   * How a DEK lookup gets its KEK and CMK versions in one query: `lookup` (one aggregation with
   * `$lookup`; MongoDB), `cache` (one `find` on the DEKs, KEK/CMK versions from a short-lived
   * cache; servers without `$lookup` such as FerretDB 1.x), or `auto` (default: probed by `migrate`).
   */
  readonly join?: 'auto' | 'lookup' | 'cache';
  /** In `cache` mode, how long another process's KEK/CMK change may go unseen (default 5000 ms). */
  readonly metadataMaxAgeMs?: number;
}

type KekChange = { state?: KeyState; wrapped?: string; cmkVersion?: number; at: string; binding?: string };
type DekChange = { state?: KeyState; wrapped?: string; kekVersion?: number; at: string };
/** A CMK/KEK document with the one-primary mark when it is the primary version. */
const marked = <D extends { keyring: string; state: KeyState }>(doc: D): D => (doc.state === 'primary' ? { ...doc, [PRIMARY_MARK]: doc.keyring } : doc);
const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/**
 * The core {@link KeyStore} in MongoDB, so wrapped keys live next to the data: collections
 * `keystrata_cmk`, `_kek`, `_dek`, `_audit` and `_job` with the columns of the SQL tables, unique
 * indexes in place of their keys, no transactions needed. The connection stays the caller's:
 * `close()` does not close it.
 *
 * @example
 * ```ts
 * const keyStore = new MongoKeyStore(mongoose.connection.db!);
 * const hierarchy = await KeyHierarchy.create({ rootKey, keyStore }); // migrates
 * ```
 */
export class MongoKeyStore implements KeyStore {
  readonly #c: KeyCollections;
  readonly #cache: MetadataCache;
  readonly #auditMutex = new Mutex();
  readonly #counter = new QueryCounter();
  readonly #deps: LookupDeps;
  #join: JoinMode | undefined;
  readonly #tombstones: MongoTombstones;
  readonly #changes: MongoKeyChanges;
  readonly #policies: MongoPolicies;

  constructor(db: mongo.Db, options: MongoKeyStoreOptions = {}) {
    if (typeof db?.collection !== 'function') throw new KeystrataError('CONFIG_INVALID', 'MongoKeyStore needs a connected mongodb Db (e.g. mongoose.connection.db).');
    if (options.join !== undefined && !['auto', 'lookup', 'cache'].includes(options.join)) throw new KeystrataError('CONFIG_INVALID', "join must be 'auto', 'lookup' or 'cache'.");
    this.#c = keyCollections(db, options.prefix ?? 'keystrata_');
    this.#tombstones = new MongoTombstones(db.collection<TombstoneDoc>(`${options.prefix ?? 'keystrata_'}tombstone`));
    this.#changes = new MongoKeyChanges(db.collection<KeyChangeDoc>(`${options.prefix ?? 'keystrata_'}key_change`));
    this.#policies = new MongoPolicies(db, options.prefix ?? 'keystrata_');
    this.#cache = new MetadataCache(options.metadataMaxAgeMs ?? 5_000);
    this.#join = options.join === 'auto' ? undefined : options.join;
    this.#deps = { c: this.#c, counter: this.#counter, cache: this.#cache, refresh: (keyring) => this.#refresh(keyring) };
  }

  #q<T>(what: string, run: () => Promise<T>): Promise<T> {
    return this.#counter.run(what, run);
  }

  get queryCount(): number {
    return this.#counter.count;
  }

  /** How DEK lookups are joined (`undefined` until `migrate` probed the server). */
  get joinMode(): JoinMode | undefined {
    return this.#join;
  }

  async migrate(): Promise<void> {
    await this.#q('index creation', () => createKeyIndexes(this.#c));
    await this.#q('index creation', async () => {
      await this.#tombstones.migrate();
      await this.#policies.migrate();
      await markPrimaries(this.#c.cmk as never);
      await markPrimaries(this.#c.kek as never);
    });
    this.#join ??= await probeJoin(this.#deps);
  }

  async close(): Promise<void> {
    this.#cache.clear();
  }

  async listCmks(keyring?: string): Promise<CmkRecord[]> {
    const docs = await this.#q('read', () =>
      this.#c.cmk
        .find(keyring === undefined ? {} : { keyring })
        .sort({ keyring: 1, version: 1 })
        .toArray(),
    );
    const records = docs.map(cmkFromDoc);
    if (keyring !== undefined) this.#cache.fill('cmk', keyring, records);
    return records;
  }

  async insertCmk(record: CmkRecord): Promise<void> {
    // No multi-document transactions on FerretDB 1.x: demote first, so there is never a second primary.
    if (record.state === 'primary') await this.#q('write', () => demotePrimary(this.#c.cmk as never, record.keyring, record.createdAt));
    await this.#insertVersion(`CMK ${record.keyring} v${record.version}`, () => this.#c.cmk.insertOne(marked(cmkToDoc(record))));
    this.#cache.clear();
  }

  async #insertVersion(what: string, insert: () => Promise<unknown>): Promise<void> {
    await this.#versionWrite(what, insert);
  }

  /** A write of a CMK/KEK version: a duplicate key (a second primary, a version written twice) is a typed clash. */
  async #versionWrite<T>(what: string, write: () => Promise<T>): Promise<T> {
    this.#counter.count++;
    try {
      return await write();
    } catch (error) {
      // FerretDB answers a unique-index clash on update with code 1 and its backend's message.
      if (isDuplicateKey(error) || /duplicate key|UNIQUE constraint failed/i.test(String((error as Error | null)?.message))) {
        throw new KeystrataError('ROTATION_IN_PROGRESS', `Another process wrote ${what} at the same time (a concurrent rotation); nothing was changed. Run the command again once it finished.`, {
          cause: error,
        });
      }
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'A key-store write failed.', { cause: error });
    }
  }

  async setCmkState(keyring: string, version: number, state: KeyState, at: string): Promise<void> {
    const mark = state === 'primary' ? { $set: { state, updated_at: at, [PRIMARY_MARK]: keyring } } : { $set: { state, updated_at: at }, $unset: { [PRIMARY_MARK]: '' } };
    const doc = await this.#versionWrite(`CMK ${keyring} v${version}`, () => this.#c.cmk.findOneAndUpdate({ keyring, version }, mark as never, { returnDocument: 'after' }));
    if (doc !== null) this.#cache.put('cmk', cmkFromDoc(doc));
    if (doc !== null) await this.#logChange({ level: 'cmk', keyring, id: String(version), segment: '', state, at });
  }

  /** Appends to the change log after the state change it describes (no multi-document transactions here). */
  async #logChange(entry: KeyChangeEntry): Promise<void> {
    await this.#q('write', () => this.#changes.append(entry));
  }

  /**
   * See `KeyStore.listKeyChanges`. A KEK or CMK change also drops the short-lived KEK/CMK metadata
   * cache of `join: 'cache'`, so the reload that follows an eviction sees the new state.
   */
  async listKeyChanges(afterSeq?: number): Promise<KeyChangePage> {
    const page = await this.#q('read', () => this.#changes.list(afterSeq));
    if (page.truncated || page.changes.some((c) => c.level !== 'dek')) this.#cache.clear();
    return page;
  }

  async listKeks(keyring?: string): Promise<KekRecord[]> {
    const docs = await this.#q('read', () =>
      this.#c.kek
        .find(keyring === undefined ? {} : { keyring })
        .sort({ keyring: 1, version: 1 })
        .toArray(),
    );
    const records = docs.map(kekFromDoc);
    if (keyring !== undefined) this.#cache.fill('kek', keyring, records);
    return records;
  }

  async insertKek(record: KekRecord): Promise<void> {
    if (record.state === 'primary') await this.#q('write', () => demotePrimary(this.#c.kek as never, record.keyring, record.createdAt));
    await this.#insertVersion(`KEK ${record.keyring} v${record.version}`, () => this.#c.kek.insertOne(marked(kekToDoc(record))));
    this.#cache.clear();
  }

  async updateKek(keyring: string, version: number, change: KekChange): Promise<void> {
    const $set = defined({ state: change.state, wrapped: change.wrapped, cmk_version: change.cmkVersion, binding: change.binding, updated_at: change.at });
    const doc = await this.#q('write', () => this.#c.kek.findOneAndUpdate({ keyring, version }, { $set }, { returnDocument: 'after' }));
    if (doc !== null) this.#cache.put('kek', kekFromDoc(doc));
    if (doc !== null && (change.state !== undefined || change.wrapped === '')) await this.#logChange({ level: 'kek', keyring, id: String(version), segment: '', state: doc.state, at: change.at });
  }

  async loadDekChains(ids: readonly string[]): Promise<DekChain[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    return this.#chains({ _id: { $in: unique } }, (rows) => rows);
  }

  async loadLatestDekChains(keyring: string, segments: readonly string[]): Promise<DekChain[]> {
    const unique = [...new Set(segments)];
    if (unique.length === 0) return [];
    return this.#chains({ keyring, segment: { $in: unique } }, latestPerSegment);
  }

  async #chains(match: mongo.Filter<DekDoc>, pick: Pick): Promise<DekChain[]> {
    this.#join ??= await probeJoin(this.#deps);
    return lookupChains(this.#deps, this.#join, match, pick);
  }

  async #refresh(keyring: string): Promise<{ keks: KekRecord[]; cmks: CmkRecord[] }> {
    const [keks, cmks] = await Promise.all([this.listKeks(keyring), this.listCmks(keyring)]);
    return { keks, cmks };
  }

  async insertDek(record: DekRecord): Promise<boolean> {
    this.#counter.count++;
    try {
      await this.#c.dek.insertOne(dekToDoc(record));
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'A key-store write failed.', { cause: error });
    }
  }

  async updateDek(id: string, change: DekChange): Promise<void> {
    const $set = defined({ state: change.state, wrapped: change.wrapped, kek_version: change.kekVersion, updated_at: change.at });
    if (change.state === undefined && change.wrapped !== '') {
      await this.#q('write', () => this.#c.dek.updateOne({ _id: id }, { $set }));
      return;
    }
    const doc = await this.#q('write', () => this.#c.dek.findOneAndUpdate({ _id: id }, { $set }, { returnDocument: 'after' }));
    if (doc !== null) await this.#logChange({ level: 'dek', keyring: doc.keyring, id, segment: doc.segment, state: doc.state, at: change.at });
  }

  async replaceDekWrapping(id: string, expectedWrapped: string, change: { wrapped: string; kekVersion: number; at: string }): Promise<boolean> {
    const filter = { _id: id, wrapped: expectedWrapped, state: { $in: ['primary', 'enabled', 'disabled'] as KeyState[] } };
    const result = await this.#q('write', () => this.#c.dek.updateOne(filter, { $set: { wrapped: change.wrapped, kek_version: change.kekVersion, updated_at: change.at } }));
    return result.modifiedCount === 1;
  }

  async listDeks(q: DekQuery): Promise<DekRecord[]> {
    const filter: mongo.Filter<DekDoc> = defined({
      keyring: q.keyring,
      segment: q.segment,
      state: q.states && { $in: [...q.states] },
      kek_version: q.kekVersionBelow === undefined ? undefined : { $lt: q.kekVersionBelow },
      _id: q.afterId === undefined ? undefined : { $gt: q.afterId },
    });
    const docs = await this.#q('read', () => this.#c.dek.find(filter).sort({ _id: 1 }).limit(q.limit).toArray());
    return docs.map(dekFromDoc);
  }

  async countDeks(): Promise<DekCount[]> {
    const rows = await this.#q('read', () =>
      this.#c.dek.aggregate<{ _id: { keyring: string; state: KeyState }; n: number }>([{ $group: { _id: { keyring: '$keyring', state: '$state' }, n: { $sum: 1 } } }]).toArray(),
    );
    return rows.map((r) => ({ keyring: r._id.keyring, state: r._id.state, count: Number(r.n) })).sort((a, b) => a.keyring.localeCompare(b.keyring) || a.state.localeCompare(b.state));
  }

  async appendAudit(entry: Omit<AuditRecord, 'seq' | 'prevMac' | 'mac'>, seal: (seq: number, prevMac: string) => Promise<string>): Promise<AuditRecord> {
    try {
      return await this.#auditMutex.run(() => appendAudit(this.#c.audit, entry, seal, () => this.#counter.count++));
    } catch (error) {
      if (KeystrataError.isInstance(error)) throw error;
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'Appending to the audit trail failed.', { cause: error });
    }
  }

  async listAudit(afterSeq = 0, limit = 10_000): Promise<AuditRecord[]> {
    const docs = await this.#q('read', () =>
      this.#c.audit
        .find({ _id: { $gt: afterSeq } })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray(),
    );
    return docs.map(auditFromDoc);
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const doc = await this.#q('read', () => this.#c.job.findOne({ _id: id }));
    return doc === null ? undefined : jobFromDoc(doc);
  }

  async putJob(j: JobRecord): Promise<void> {
    const doc = { kind: j.kind, state: j.state, cursor: j.cursor, processed: j.processed, data: j.data, updated_at: j.updatedAt };
    await this.#q('write', () => this.#c.job.replaceOne({ _id: j.id }, doc, { upsert: true }));
  }

  // tombstones

  async putTombstone(record: TombstoneRecord): Promise<void> {
    if (await this.#q('write', () => this.#tombstones.put(record))) {
      await this.#logChange({ level: record.kind, keyring: record.keyring, id: record.id, segment: record.segment, state: 'destroyed', at: record.destroyedAt });
    }
  }

  async listTombstones(keyring?: string): Promise<TombstoneRecord[]> {
    return this.#q('read', () => this.#tombstones.list(keyring));
  }

  async markTombstonesDurable(keyring: string, destroyedUpTo: string, at: string): Promise<number> {
    return this.#q('write', () => this.#tombstones.markDurable(keyring, destroyedUpTo, at));
  }

  async reopenTombstone(kind: TombstoneRecord['kind'], keyring: string, id: string, destroyedAt: string): Promise<void> {
    const segment = await this.#q('write', () => this.#tombstones.reopen(kind, keyring, id, destroyedAt));
    if (segment !== undefined) await this.#logChange({ level: kind, keyring, id, segment, state: 'destroyed', at: destroyedAt });
  }

  /** MongoDB rewrites documents in place; old versions live on in the journal, oplog and backups (docs/shredding.md). */
  async purgeErased(_mode: 'quick' | 'full'): Promise<string> {
    return 'mongodb: nothing a client can purge; old wrapped keys end at a destroyed CMK version';
  }

  // leases

  async acquireLease(lease: LeaseRecord, at: string): Promise<boolean> {
    this.#counter.count++;
    try {
      // Matches a free-to-take lease only; when another holder's live lease exists the upsert's insert clashes on _id.
      await this.#c.lease.updateOne(
        { _id: lease.name, $or: [{ expires_at: { $lt: at } }, { holder: lease.holder }] },
        { $set: { holder: lease.holder, expires_at: lease.expiresAt } },
        { upsert: true },
      );
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'A key-store write failed.', { cause: error });
    }
  }

  async getLease(name: string): Promise<LeaseRecord | undefined> {
    const doc = await this.#q('read', () => this.#c.lease.findOne({ _id: name }));
    return doc === null ? undefined : { name: doc._id, holder: doc.holder, expiresAt: doc.expires_at };
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#q('write', () => this.#c.lease.deleteOne({ _id: name, holder }));
  }

  async setPrimaryCmk(keyring: string, version: number, at: string): Promise<void> {
    const target = await this.#q('read', () => this.#c.cmk.findOne({ keyring, version }));
    if (target === null) throw new KeystrataError('KEY_NOT_FOUND', `CMK ${keyring} v${version} does not exist; nothing was changed.`);
    // Demote, then promote (no multi-document transactions on FerretDB 1.x): never two primaries.
    await this.#q('write', () => demotePrimary(this.#c.cmk as never, keyring, at, version));
    await this.#versionWrite(`the primary CMK of ${keyring}`, () => this.#c.cmk.updateOne({ keyring, version }, { $set: { state: 'primary', updated_at: at, [PRIMARY_MARK]: keyring } } as never));
    this.#cache.clear();
    await this.#logChange({ level: 'cmk', keyring, id: String(version), segment: '', state: 'primary', at });
  }

  // rotation policies (docs/rotation-policies.md)

  getPolicy(keyring: string): Promise<PolicyRecord | undefined> {
    return this.#q('read', () => this.#policies.get(keyring));
  }

  async putPolicy(record: PolicyRecord): Promise<void> {
    await this.#q('write', () => this.#policies.put(record));
  }

  reserveDekUses(requests: ReadonlyArray<{ readonly dekId: string; readonly count: number }>): Promise<Map<string, number>> {
    return this.#q('write', () => this.#policies.reserve(requests));
  }

  loadDekUses(ids: readonly string[]): Promise<Map<string, number>> {
    return this.#q('read', () => this.#policies.load(ids));
  }

  async listJobs(kind: string): Promise<JobRecord[]> {
    const docs = await this.#q('read', () => this.#c.job.find({ kind }).sort({ _id: 1 }).toArray());
    return docs.map(jobFromDoc);
  }
}
