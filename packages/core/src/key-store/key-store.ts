import type { AuditRecord, CmkRecord, DekChain, DekRecord, JobRecord, KekRecord, KeyState, LeaseRecord } from './records.js';

/** Filter for {@link KeyStore.listDeks}; results are ordered by id and paged by `afterId`. */
export interface DekQuery {
  readonly keyring?: string;
  readonly segment?: string;
  readonly states?: readonly KeyState[];
  /** Only DEKs wrapped by a KEK version lower than this. */
  readonly kekVersionBelow?: number;
  readonly afterId?: string;
  readonly limit: number;
}

/** Counts of DEKs per keyring and state, for status displays. */
export interface DekCount {
  readonly keyring: string;
  readonly state: KeyState;
  readonly count: number;
}

/**
 * Where wrapped keys, their states, jobs and the audit trail live. Implementations: the SQL store
 * (SQLite, PostgreSQL), the in-memory store for unit tests, and the MongoDB store of
 * `@keystrata/mongoose`. All share the logical layout of docs/keystore.md.
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
  /** Sets state and, when given, new wrapping (CMK rotation) or erases it (`wrapped: ''`). */
  updateKek(keyring: string, version: number, change: { state?: KeyState; wrapped?: string; cmkVersion?: number; at: string }): Promise<void>;

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
}
