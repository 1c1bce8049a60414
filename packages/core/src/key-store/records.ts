/**
 * Key states, after Google Tink: `primary` (used for new wrapping/encryption), `enabled` (decrypts),
 * `disabled` (reversibly refused), `destroyed` (material erased; irreversible), and for CMK versions
 * `retired` (HSM object removed after nothing referenced it).
 *
 * @example
 * ```ts
 * const readable = (state: KeyState): boolean => state === 'primary' || state === 'enabled';
 * const live = (await keyStore.listDeks({ keyring: 'default', limit: 1000 })).filter((dek) => readable(dek.state));
 * ```
 */
export type KeyState = 'primary' | 'enabled' | 'disabled' | 'destroyed' | 'retired';

/**
 * One version of a customer-managed key: an HSM object found by label and id.
 *
 * @example
 * ```ts
 * const cmks: CmkRecord[] = await keyStore.listCmks('default');
 * const primary = cmks.find((cmk) => cmk.state === 'primary'); // { version, hsmLabel, hsmId, … }
 * ```
 */
export interface CmkRecord {
  readonly keyring: string;
  readonly version: number;
  readonly hsmLabel: string;
  /** CKA_ID, hex. */
  readonly hsmId: string;
  readonly state: KeyState;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * One version of a keyring's KEK, wrapped by a CMK version (RFC 5649, inside the HSM).
 *
 * @example
 * ```ts
 * const keks: KekRecord[] = await keyStore.listKeks('default');
 * const unbound = keks.filter((kek) => !kek.binding && kek.wrapped !== ''); // `keystrata rewrap` binds them
 * ```
 */
export interface KekRecord {
  readonly keyring: string;
  readonly version: number;
  readonly cmkVersion: number;
  /** base64; empty once destroyed. */
  readonly wrapped: string;
  readonly state: KeyState;
  readonly createdAt: string;
  readonly updatedAt: string;
  /**
   * `b1.` + HMAC-SHA256 binding the KEK to its keyring and version (docs/format.md), checked on
   * every unwrap; '' or absent for a legacy KEK created before bindings (`keystrata rewrap` adds it).
   */
  readonly binding?: string;
}

/**
 * A data-encryption key for one segment, wrapped by a KEK version (RFC 5649, in process).
 *
 * @example
 * ```ts
 * const deks: DekRecord[] = await keyStore.listDeks({ segment: 'tenantId:acme', limit: 100 });
 * for (const dek of deks) console.log(dek.id, `v${dek.version}`, dek.state, `under KEK v${dek.kekVersion}`);
 * ```
 */
export interface DekRecord {
  /** 32 hex characters; appears in every envelope the DEK sealed. */
  readonly id: string;
  readonly keyring: string;
  readonly segment: string;
  readonly version: number;
  readonly kekVersion: number;
  /** `k2.` + base64 (bound to its identity, docs/format.md), or legacy RFC 5649 base64; empty once destroyed. */
  readonly wrapped: string;
  readonly state: KeyState;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * A DEK with what it takes to unwrap it, as one batched key-store query returns it.
 *
 * @example
 * ```ts
 * const [chain] = await keyStore.loadDekChains([envelopeDekId(row.ssn)]);
 * if (chain?.kek === undefined) console.error('DEK or its KEK missing from the key store');
 * else console.log(`DEK v${chain.dek.version} under KEK v${chain.kek.version} under CMK v${chain.cmk?.version}`);
 * ```
 */
export interface DekChain {
  readonly dek: DekRecord;
  readonly kek: KekRecord | undefined;
  readonly cmk: CmkRecord | undefined;
}

/**
 * One audit-trail record. `details` holds identifiers only, never key bytes or plaintext.
 *
 * @example
 * ```ts
 * for (const record of await hierarchy.listAudit(0, 100)) {
 *   console.log(record.seq, record.at, record.event, record.subject, record.actor, JSON.parse(record.details));
 * }
 * ```
 */
export interface AuditRecord {
  readonly seq: number;
  readonly at: string;
  readonly event: AuditEvent;
  readonly subject: string;
  readonly actor: string;
  readonly details: string;
  readonly prevMac: string;
  readonly mac: string;
}

/**
 * Lifecycle events recorded in the audit trail.
 *
 * @example
 * ```ts
 * const alerting: ReadonlySet<AuditEvent> = new Set(['destroy', 'unwrap-failed', 'restore']);
 * const alerts = (await hierarchy.listAudit()).filter((record) => alerting.has(record.event));
 * ```
 */
export type AuditEvent =
  | 'generate'
  | 'rotate'
  | 'rewrap'
  | 'disable'
  | 'enable'
  | 'destroy'
  | 'retire'
  | 'backup'
  | 'restore'
  | 'unwrap-failed'
  | 'reencrypt'
  | 'shred'
  | 'audit-key'
  | 'policy'
  | 'member';

/**
 * Progress of a resumable job (DEK re-encryption).
 *
 * @example
 * ```ts
 * const job: JobRecord | undefined = await keyStore.getJob('dek-rotation:default:tenantId:acme');
 * if (job?.state === 'running') console.log(`interrupted after ${job.processed} records: rotate again to resume`);
 * ```
 */
export interface JobRecord {
  readonly id: string;
  readonly kind: string;
  readonly state: 'running' | 'done';
  readonly cursor: string | null;
  readonly processed: number;
  readonly data: string;
  readonly updatedAt: string;
}

/**
 * A destroyed key, remembered after its material is gone: restores never bring it back, and
 * `status` tells whether its shred is durable (its old wrapped blobs end at a CMK version destroyed
 * in the HSM) and since when. `id` is the DEK id, or the KEK/CMK version as a decimal string.
 *
 * @example
 * ```ts
 * const pending = (await keyStore.listTombstones('default')).filter((tombstone) => tombstone.durableAt === null);
 * if (pending.length > 0) await hierarchy.completeShreds({ keyring: 'default' }); // makes them durable
 * ```
 */
export interface TombstoneRecord {
  readonly kind: 'cmk' | 'kek' | 'dek';
  readonly id: string;
  readonly keyring: string;
  /** The DEK's segment; `''` for KEK and CMK versions. */
  readonly segment: string;
  readonly destroyedAt: string;
  /** When a shred epoch (or the CMK's own destruction in the HSM) made it durable; null while pending. */
  readonly durableAt: string | null;
}

/**
 * A lease in `keystrata_lease`: who may run a rotation of a keyring (`keyring:<k>`) or a segment
 * (`segment:<k>:<s>`) until when. Taken atomically; an expired lease may be taken over.
 *
 * @example
 * ```ts
 * const lease: LeaseRecord | undefined = await keyStore.getLease('keyring:default');
 * if (lease && lease.expiresAt > new Date().toISOString()) console.log(`a rotation runs in ${lease.holder}`);
 * ```
 */
export interface LeaseRecord {
  readonly name: string;
  /** Who holds it: `<host>:<pid>:<random>`, for error messages. */
  readonly holder: string;
  /** ISO time after which another process may take it over. */
  readonly expiresAt: string;
}

/**
 * A keyring's rotation policy (`keystrata_policy`, docs/rotation-policies.md). `null` means no such
 * rule; the DEK usage limit then falls back to 2^30.
 *
 * @example
 * ```ts
 * const record: PolicyRecord | undefined = await keyStore.getPolicy('default');
 * const limit = record?.dekUsageLimit ?? DEFAULT_DEK_USAGE_LIMIT; // the limit in force
 * // Change it with hierarchy.policies.set(…): validated and audited, unlike keyStore.putPolicy.
 * ```
 */
export interface PolicyRecord {
  readonly keyring: string;
  /** After this many seconds a KEK version is replaced (lazily, as `rotateKek`). */
  readonly kekValiditySeconds: number | null;
  /** After this many seconds a segment's DEK is replaced and a re-encryption job queued. */
  readonly dekValiditySeconds: number | null;
  /** Encryptions per DEK before the segment's next write uses a fresh DEK. */
  readonly dekUsageLimit: number | null;
  readonly updatedAt: string;
}
