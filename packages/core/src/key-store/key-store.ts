import type { KeyChangeHandlers, KeyChangePage, KeyChangeSubscription } from './key-changes.js';
import type { AuditRecord, CmkRecord, DekChain, DekRecord, JobRecord, KekRecord, KeyState, LeaseRecord, PolicyRecord, TombstoneRecord } from './records.js';

/**
 * Filter for {@link KeyStore.listDeks}; results are ordered by id and paged by `afterId`.
 *
 * @example
 * ```ts
 * const query: DekQuery = { keyring: 'default', states: ['primary', 'enabled'], kekVersionBelow: 3, limit: 500 };
 * const first = await keyStore.listDeks(query); // ordered by id
 * const next = await keyStore.listDeks({ ...query, afterId: first.at(-1)!.id });
 * ```
 */
export interface DekQuery {
  readonly keyring?: string;
  readonly segment?: string;
  readonly states?: readonly KeyState[];
  /** Only DEKs wrapped by a KEK version lower than this. */
  readonly kekVersionBelow?: number;
  readonly afterId?: string;
  readonly limit: number;
}

/**
 * Counts of DEKs per keyring and state, for status displays.
 *
 * @example
 * ```ts
 * for (const { keyring, state, count } of await keyStore.countDeks()) console.log(`${keyring} ${state}: ${count}`);
 * // blind-index root keys are counted too (`hierarchy.status()` lists them apart)
 * ```
 */
export interface DekCount {
  readonly keyring: string;
  readonly state: KeyState;
  readonly count: number;
}

/**
 * Where wrapped keys, their states, jobs and the audit trail live. Implementations: the SQL store
 * (SQLite, PostgreSQL), the in-memory store for unit tests, and the MongoDB store of
 * `@keystrata/mongoose`. All share the logical layout of docs/keystore.md.
 *
 * @example
 * ```ts
 * const keyStore: KeyStore = new SqlKeyStore(await createSqliteDriver({ database: 'keys.db' }));
 * const hierarchy = await KeyHierarchy.create({ rootKey, keyStore }); // migrates it
 * const keks = await keyStore.listKeks('default'); // wrapped keys and states, never key material
 * ```
 */
export interface KeyStore {
  /** Creates tables/collections idempotently. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Number of queries issued (a batched query counts once). */
  readonly queryCount: number;

  listCmks(keyring?: string): Promise<CmkRecord[]>;
  insertCmk(record: CmkRecord): Promise<void>;
  setCmkState(keyring: string, version: number, state: KeyState, at: string): Promise<void>;

  listKeks(keyring?: string): Promise<KekRecord[]>;
  /**
   * Inserts a KEK version. A keyring has at most one primary KEK (and one primary CMK), which the
   * store enforces: inserting a `primary` version demotes the previous primary to `enabled` in the
   * same transaction; a concurrent clash fails with `ROTATION_IN_PROGRESS`.
   */
  insertKek(record: KekRecord): Promise<void>;
  /** Sets state and, when given, new wrapping (CMK rotation) or erases it (`wrapped: ''`); `binding` adds a legacy KEK's binding. */
  updateKek(keyring: string, version: number, change: { state?: KeyState; wrapped?: string; cmkVersion?: number; at: string; binding?: string }): Promise<void>;

  /** Every DEK of `ids` with its KEK and CMK version records: one query. */
  loadDekChains(ids: readonly string[]): Promise<DekChain[]>;
  /** The newest DEK version of each segment that has one (whatever its state), with its chain: one query. */
  loadLatestDekChains(keyring: string, segments: readonly string[]): Promise<DekChain[]>;
  /** Inserts a DEK; returns false when the (keyring, segment, version) already exists. */
  insertDek(record: DekRecord): Promise<boolean>;
  updateDek(id: string, change: { state?: KeyState; wrapped?: string; kekVersion?: number; at: string }): Promise<void>;
  listDeks(query: DekQuery): Promise<DekRecord[]>;
  countDeks(): Promise<DekCount[]>;

  /**
   * Appends an audit record atomically after the current last one. `seal` receives the last
   * record's MAC (or '' for the first) and returns the new record's MAC.
   */
  appendAudit(entry: Omit<AuditRecord, 'seq' | 'prevMac' | 'mac'>, seal: (seq: number, prevMac: string) => Promise<string>): Promise<AuditRecord>;
  listAudit(afterSeq?: number, limit?: number): Promise<AuditRecord[]>;

  getJob(id: string): Promise<JobRecord | undefined>;
  putJob(job: JobRecord): Promise<void>;

  // tombstones
  /** Records a destroyed key; an existing tombstone for the same (kind, keyring, id) is kept as is. */
  putTombstone(record: TombstoneRecord): Promise<void>;
  /** Every tombstone (of one keyring), ordered by destruction time. */
  listTombstones(keyring?: string): Promise<TombstoneRecord[]>;
  /** Marks a keyring's pending tombstones destroyed at or before `destroyedUpTo` as durable since `at`; returns how many. */
  markTombstonesDurable(keyring: string, destroyedUpTo: string, at: string): Promise<number>;
  /**
   * Makes erased wrapped keys unrecoverable from the database's own files as far as a client can:
   * SQLite: WAL checkpoint (TRUNCATE), with `secure_delete` on; PostgreSQL: `VACUUM` of the key
   * tables (`full`: `VACUUM FULL`, which rewrites them into new files and briefly locks them).
   * Returns what was done, for the audit trail; never throws for a purge it could not do.
   */
  purgeErased(mode: 'quick' | 'full'): Promise<string>;
  /**
   * Replaces a live DEK's wrapping only if it still holds `expectedWrapped` (compare-and-set, so a
   * rewrap never undoes a concurrent destroy or rewrap); returns whether it did.
   */
  replaceDekWrapping(id: string, expectedWrapped: string, change: { wrapped: string; kekVersion: number; at: string }): Promise<boolean>;
  // leases
  /**
   * Takes lease `lease.name` for `lease.holder` until `lease.expiresAt`, atomically, when nobody
   * holds it, its lease expired before `at`, or `holder` already holds it (renewal). True when taken.
   */
  acquireLease(lease: LeaseRecord, at: string): Promise<boolean>;
  /** The lease `name` as stored (possibly expired), for error messages. */
  getLease(name: string): Promise<LeaseRecord | undefined>;
  /** Gives the lease up if `holder` still holds it. */
  releaseLease(name: string, holder: string): Promise<void>;
  /**
   * Makes CMK `version` the keyring's only primary version, atomically (the previous primary becomes
   * `enabled`). The end of a CMK rotation.
   */
  setPrimaryCmk(keyring: string, version: number, at: string): Promise<void>;
  /**
   * Sets a tombstone back to pending (durable_at NULL, destroyed at `destroyedAt`): its key was found
   * still live and destroyed again, so an earlier epoch's "durable" did not cover it.
   */
  reopenTombstone(kind: TombstoneRecord['kind'], keyring: string, id: string, destroyedAt: string): Promise<void>;
  // revocation sequence (issue 15, docs/many-instances.md); optional, so older third-party stores keep compiling
  /**
   * The key-change log after `afterSeq` (one query; nothing found in the steady state), or only the
   * newest seq when `afterSeq` is omitted. Every key state change (disable, enable, destroy,
   * tombstone, a new primary CMK) is logged with a seq in the same transaction as the change.
   * A store without it is never re-checked: other processes see its revocations after `cache.maxAgeMs`.
   */
  listKeyChanges?(afterSeq?: number): Promise<KeyChangePage>;
  /** Pushes changes as they commit (PostgreSQL `LISTEN`/`NOTIFY`); undefined where the store cannot push. */
  watchKeyChanges?(handlers: KeyChangeHandlers): KeyChangeSubscription | undefined;
  // rotation policies (docs/rotation-policies.md)
  /** The keyring's rotation policy, if one was set. */
  getPolicy(keyring: string): Promise<PolicyRecord | undefined>;
  /** Sets (replaces) the keyring's rotation policy. */
  putPolicy(record: PolicyRecord): Promise<void>;
  /**
   * Reserves uses of DEKs in blocks: adds each `count` to its DEK's reserved total atomically (one
   * statement for the batch) and returns each DEK's new total, so the block handed out is
   * `[total - count, total)` and no two callers, in any process, ever get the same range.
   */
  reserveDekUses(requests: ReadonlyArray<{ readonly dekId: string; readonly count: number }>): Promise<Map<string, number>>;
  /** Reserved uses of each DEK of `ids` that has any (status displays). */
  loadDekUses(ids: readonly string[]): Promise<Map<string, number>>;
  /** Every job of `kind` (`dek-rotation`, …), ordered by id. */
  listJobs(kind: string): Promise<JobRecord[]>;
}
