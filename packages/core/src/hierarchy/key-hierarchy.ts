import { performance } from 'node:perf_hooks';
import { exportBackup, importBackup, type BackupFile, type RestoreResult } from '../backup/backup.js';
import { blindIndexKey } from '../blind-index/blind-index.js';
import { blindIndexesOf } from '../blind-index/blind-index-batch.js';
import { groupByField, type BlindIndexItem, type FieldGroup } from '../blind-index/field-groups.js';
import { KeyLeases } from '../cache/key-leases.js';
import type { FieldContext } from '../envelope/field-context.js';
import type { FieldValue } from '../envelope/value-codec.js';
import { chooseAead, type NativeAeadModule } from '../crypto/native-aead.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { SecretKey } from '../secret/secret-key.js';
import { AuditLog, type AuditVerification, type AuditVerifyOptions } from './audit-log.js';
import { checkContext, checkKeyring, RESERVED_SEGMENT_PREFIX } from './context-checks.js';
import { rotateDek, type DekRotationOptions, type DekRotationResult } from './dek-rotation.js';
import { dekRotationSteps, type DekRotationSteps } from '../jobs/dek-rotation-batches.js';
import type { HierarchyInternals, ProgressListener } from './internals.js';
import { KeyResolver } from './key-resolver.js';
import { decryptBatch, encryptBatch } from './value-batches.js';
import type { DecryptItem, DecryptResult, EncryptItem, KeyHierarchyOptions, OperationEvent } from './key-hierarchy-types.js';

export type { DecryptItem, DecryptResult, EncryptItem, KeyHierarchyOptions, OperationEvent } from './key-hierarchy-types.js';
import { provisionKeyring, retireCmk, rotateCmk, rotateKek, type CmkRotationResult, type KekRotationResult, type ProvisionResult } from './provisioning.js';
import { changeKeyState, type KeyReference, type RevocationImpact, type RevocationOptions } from './revocation.js';
import { legacyKeyCounts, rewrapDeks, type LegacyKeyCounts, type RewrapResult } from './rewrap.js';
import { hierarchyStatus, type HierarchyStats, type HierarchyStatus } from './status.js';
import { completeShreds, type ShredEpochResult } from '../shred/complete-shreds.js';
import { RotationPolicies } from '../policy/rotation-policies.js';
import { auditMemberEvents } from '../root-key/members/member-audit.js';

const INDEX_SEGMENT = `${RESERVED_SEGMENT_PREFIX}/blind-index`;

/**
 * The CMK → KEK → DEK hierarchy and the field-level envelope: the one API every ORM adapter and
 * the CLI use. Reading N values across M segments costs at most one key-store query for the cache
 * misses and one HSM call per KEK version involved.
 *
 * @example
 * ```ts
 * const hierarchy = await KeyHierarchy.create({ rootKey, keyStore });
 * await hierarchy.provision();
 * const context = { model: 'Patient', field: 'ssn', recordId: 'p1', segment: 'tenant:acme' };
 * const stored = await hierarchy.encryptValue('123-45-6789', context);
 * await hierarchy.decryptValue(stored, context); // '123-45-6789'
 * ```
 */
export class KeyHierarchy {
  readonly #h: HierarchyInternals;
  readonly #monitor: ((event: OperationEvent) => void) | undefined;
  readonly #aead: NativeAeadModule | undefined;

  private constructor(h: HierarchyInternals, monitor: KeyHierarchyOptions['monitor'], aead: NativeAeadModule | undefined) {
    this.#h = h;
    this.#monitor = monitor;
    this.#aead = aead;
  }

  /** Validates the options and migrates the key store. */
  static async create(options: KeyHierarchyOptions): Promise<KeyHierarchy> {
    if (typeof options !== 'object' || options === null) throw new KeystrataError('CONFIG_INVALID', 'KeyHierarchy.create needs an options object.');
    if (typeof options.rootKey?.unwrapKek !== 'function') throw new KeystrataError('CONFIG_INVALID', 'rootKey must be a RootKey (e.g. Pkcs11RootKey).');
    if (typeof options.keyStore?.loadDekChains !== 'function') throw new KeystrataError('CONFIG_INVALID', 'keyStore must be a KeyStore (e.g. SqlKeyStore).');
    if (options.monitor !== undefined && typeof options.monitor !== 'function') throw new KeystrataError('CONFIG_INVALID', 'monitor must be a function.');
    if (options.legacyKeys !== undefined && options.legacyKeys !== 'accept' && options.legacyKeys !== 'refuse') throw new KeystrataError('CONFIG_INVALID', 'legacyKeys must be "accept" or "refuse".');
    const keyring = checkKeyring(options.keyring ?? 'default');
    const aead = await chooseAead(options.aead);
    await options.keyStore.migrate();
    const audit = new AuditLog(options.keyStore, options.rootKey, options.actor ?? 'keystrata');
    auditMemberEvents(options.rootKey, audit, options.keyStore);
    const resolver = new KeyResolver(options.rootKey, options.keyStore, audit, options.cache ?? {}, options.legacyKeys ?? 'accept');
    await resolver.revocations.start(); // the revocation baseline (PostgreSQL: LISTEN) before anything is cached
    const h: HierarchyInternals = {
      rootKey: options.rootKey,
      keyStore: options.keyStore,
      resolver,
      audit,
      defaultKeyring: keyring,
      cmkLabelPrefix: options.cmkLabelPrefix ?? 'keystrata-cmk',
    };
    resolver.policies = new RotationPolicies(h, options.cache?.maxAgeMs ?? 60_000);
    return new KeyHierarchy(h, options.monitor, aead);
  }

  /** The keyring used when a context names none. */
  get defaultKeyring(): string {
    return this.#h.defaultKeyring;
  }

  #observe<T>(operation: OperationEvent['operation'], count: number, run: () => Promise<T>, failureOf?: (value: T) => unknown): Promise<T> {
    if (this.#monitor === undefined) return run();
    const started = performance.now();
    const report = (error?: unknown) =>
      this.#monitor!({
        operation,
        count,
        ok: error === undefined,
        durationMs: performance.now() - started,
        ...(KeystrataError.isInstance(error) ? { code: error.code } : {}),
      });
    return run().then(
      (value) => (report(failureOf?.(value)), value),
      (error: unknown) => {
        report(error ?? 'error');
        throw error;
      },
    );
  }

  // ── data plane ────────────────────────────────────────────────────────────

  /** Encrypts one value. Prefer {@link KeyHierarchy.encryptValues} for many. */
  async encryptValue(value: FieldValue, context: FieldContext): Promise<string> {
    return (await this.encryptValues([{ value, context }]))[0]!;
  }

  /** Encrypts a batch; keys are resolved once per segment. Fails as a whole: nothing partial is returned. */
  encryptValues(items: readonly EncryptItem[]): Promise<string[]> {
    return this.#observe('encrypt', items.length, () => encryptBatch(this.#h, this.#aead, items));
  }

  /**
   * Makes sure each segment has a current DEK (creating missing ones) without encrypting anything:
   * call it before a write transaction on a single-writer database (SQLite), so key creation does
   * not need the lock the transaction holds (nor does reserving DEK uses: half a block is reserved).
   */
  async prepareSegments(segments: readonly string[], options: { keyring?: string } = {}): Promise<void> {
    for (const segment of segments) checkContext({ model: 'keystrata', field: 'prepare', segment }, true);
    const leases = new KeyLeases();
    try {
      // 0 uses: the DEK usage counts are reserved now too (a key-store write), not inside the transaction.
      await this.#h.resolver.encryptionKeys(checkKeyring(options.keyring ?? this.#h.defaultKeyring), [...new Set(segments)], leases, new Map(segments.map((s) => [s, 0])));
    } finally {
      leases.release();
    }
  }

  /** Decrypts one value. Prefer {@link KeyHierarchy.decryptValues} for many. */
  async decryptValue(ciphertext: unknown, context: FieldContext): Promise<FieldValue> {
    return (await this.decryptValues([{ ciphertext, context }]))[0]!;
  }

  /** Decrypts a batch; throws the first failing item's error. Never returns a ciphertext as plaintext. */
  decryptValues(items: readonly DecryptItem[]): Promise<FieldValue[]> {
    return this.#observe('decrypt', items.length, async () => (await decryptBatch(this.#h, this.#aead, items, true)).values);
  }

  /** Decrypts a batch, one result per item, so a caller can show a placeholder for unreadable values. */
  decryptValuesSettled(items: readonly DecryptItem[]): Promise<DecryptResult[]> {
    return this.#observe(
      'decrypt',
      items.length,
      async () => {
        const { values, errors } = await decryptBatch(this.#h, this.#aead, items, false);
        const results: DecryptResult[] = [];
        for (let i = 0; i < values.length; i++) {
          const error = errors.get(i);
          results.push(error === undefined ? { ok: true, value: values[i]! } : { ok: false, error });
        }
        return results;
      },
      (results) => results.find((r) => !r.ok)?.error,
    );
  }

  /** The blind index of a value for equality lookups on `model.field` (HMAC-SHA256 under a per-field key). */
  async blindIndex(value: FieldValue, field: { model: string; field: string; keyring?: string }): Promise<string> {
    return (await this.blindIndexes([{ value, ...field }]))[0]!;
  }

  /** Blind indexes of a batch; each field's key is looked up once per batch. */
  blindIndexes(items: readonly BlindIndexItem[]): Promise<string[]> {
    return this.#observe('blind-index', items.length, async () => {
      const out = new Array<string>(items.length);
      await this.#h.resolver.revocations.beforeServe(); // cached field keys wait for a due revocation check too (issue 15 §1)
      const leases = new KeyLeases();
      try {
        for (const group of groupByField(items, this.#h.defaultKeyring)) {
          const key = await this.#fieldKey(group, items[group.indexes[0]!]!, leases);
          await blindIndexesOf(this.#aead, key, group.indexes, items, out);
        }
      } finally {
        leases.release();
      }
      return out;
    });
  }

  /** A per-field blind-index key, leased: from the resolver's cache (bounded, aged, evicted with its keyring on revocation), derived once for concurrent callers. */
  async #fieldKey(group: FieldGroup, item: BlindIndexItem, leases: KeyLeases): Promise<SecretKey> {
    const id = `${group.keyring}\u0000${item.model}\u0000${item.field}`;
    const entry = await this.#h.resolver.fieldKeys.leaseOrLoad(id, leases, group.indexes.length, async () => {
      const root = (await this.#h.resolver.encryptionKeys(group.keyring, [INDEX_SEGMENT], leases)).get(INDEX_SEGMENT)!;
      return { key: blindIndexKey(root.key, group.keyring, item.model, item.field), meta: { keyring: group.keyring, dekId: root.meta.id } };
    });
    return entry.key;
  }

  // ── control plane ─────────────────────────────────────────────────────────

  /** Creates a keyring's CMK (in the HSM) and first KEK unless they exist. */
  provision(keyring = this.#h.defaultKeyring): Promise<ProvisionResult> {
    return provisionKeyring(this.#h, checkKeyring(keyring));
  }

  /** New CMK version; every KEK re-wrapped under it inside the HSM. Resumable. */
  rotateCmk(options: { keyring?: string; onProgress?: ProgressListener } = {}): Promise<CmkRotationResult> {
    return rotateCmk(this.#h, checkKeyring(options.keyring ?? this.#h.defaultKeyring), options.onProgress);
  }

  /** Destroys an old CMK version in the HSM, refused while anything references it. */
  retireCmk(options: { version: number; keyring?: string }): Promise<void> {
    return retireCmk(this.#h, checkKeyring(options.keyring ?? this.#h.defaultKeyring), options.version);
  }

  /** New KEK version; new DEKs wrap under it. */
  rotateKek(options: { keyring?: string; onProgress?: ProgressListener } = {}): Promise<KekRotationResult> {
    return rotateKek(this.#h, checkKeyring(options.keyring ?? this.#h.defaultKeyring), options.onProgress);
  }

  /** Moves old DEKs under the primary KEK without touching data. */
  rewrapDeks(options: { keyring?: string; batchSize?: number; onProgress?: ProgressListener } = {}): Promise<RewrapResult> {
    return rewrapDeks(this.#h, checkKeyring(options.keyring ?? this.#h.defaultKeyring), options.batchSize, options.onProgress);
  }

  /**
   * How many keys of a keyring are still in the legacy, unbound wrapped formats (`keystrata rewrap`
   * migrates them; then `legacyKeys: 'refuse'` can be set).
   */
  legacyKeys(options: { keyring?: string } = {}): Promise<LegacyKeyCounts> {
    return legacyKeyCounts(this.#h, checkKeyring(options.keyring ?? this.#h.defaultKeyring));
  }

  /** New DEK for a segment, and re-encryption of its data through the adapter's hook. */
  rotateDek(options: DekRotationOptions): Promise<DekRotationResult> {
    // Values of the rotated segment are read as its keyring's (the hook's contexts may not name it).
    const keyring = options.keyring ?? this.#h.defaultKeyring;
    const inKeyring = (items: readonly DecryptItem[]) => items.map((item) => (item.context.keyring === undefined ? { ...item, context: { ...item.context, keyring } } : item));
    const crypto = { decrypt: (items: readonly DecryptItem[]) => this.decryptValues(inKeyring(items)), encrypt: (items: readonly EncryptItem[]) => this.encryptValues(items) };
    return rotateDek(this.#h, crypto, options);
  }

  /** A DEK rotation's steps for workers in other processes (`enqueueDekRotation`, `runRotationWorker`): plan, batch, finish. */
  get dekRotationSteps(): DekRotationSteps {
    return dekRotationSteps(this.#h, this);
  }

  /** Disables a key (reversible); evicted from the cache at once. */
  disable(ref: KeyReference, options?: RevocationOptions): Promise<RevocationImpact> {
    return changeKeyState(this.#h, 'disable', ref, options);
  }

  /** Re-enables a disabled key. */
  enable(ref: KeyReference, options?: RevocationOptions): Promise<RevocationImpact> {
    return changeKeyState(this.#h, 'enable', ref, options);
  }

  /** Destroys a key: crypto-shredding, irreversible. */
  destroy(ref: KeyReference, options?: RevocationOptions): Promise<RevocationImpact> {
    return changeKeyState(this.#h, 'destroy', ref, options);
  }

  /**
   * Makes pending shreds durable: one shred epoch per keyring with pending tombstones (new CMK
   * version, new KEK, DEKs re-wrapped, old KEKs and CMK versions destroyed in the HSM). Resumable.
   * Every keyring with pending shreds when `keyring` is not given.
   */
  async completeShreds(options: { keyring?: string } = {}): Promise<ShredEpochResult[]> {
    const keyrings =
      options.keyring !== undefined ? [checkKeyring(options.keyring)] : [...new Set((await this.#h.keyStore.listTombstones()).filter((t) => t.durableAt === null).map((t) => t.keyring))];
    const results: ShredEpochResult[] = [];
    for (const keyring of keyrings) results.push(await completeShreds(this.#h, keyring));
    return results;
  }

  /** Rotation policies per keyring: validity periods and the DEK usage limit (docs/rotation-policies.md). */
  get policies(): RotationPolicies {
    return this.#h.resolver.policies!;
  }

  /** The hierarchy, key states and counters. */
  status(): Promise<HierarchyStatus> {
    return hierarchyStatus(this.#h, () => this.stats());
  }

  /** Cache, HSM and key-store counters. */
  stats(): HierarchyStats {
    const { hsmCalls, reconnects, members } = this.#h.rootKey.stats;
    const { deks, keks } = this.#h.resolver;
    const stats = {
      deks: deks.stats,
      keks: keks.stats,
      hsmCalls,
      hsmReconnects: reconnects,
      keyStoreQueries: this.#h.keyStore.queryCount,
      revocations: this.#h.resolver.revocations.stats,
      aead: this.#aead === undefined ? ('node:crypto' as const) : ('native' as const),
    };
    return members === undefined ? stats : { ...stats, hsmMembers: members };
  }

  /** Verifies the audit trail's MAC chain; throws `AUDIT_CHAIN_BROKEN` at the first fault. */
  verifyAudit(options: AuditVerifyOptions = {}): Promise<AuditVerification> {
    return this.#h.audit.verify(options);
  }

  /** The audit trail, oldest first. */
  listAudit(afterSeq = 0, limit = 1000) {
    return this.#h.keyStore.listAudit(afterSeq, limit);
  }

  /** Exports wrapped keys and metadata (never an unwrapped key), MACed by the HSM. */
  exportBackup(): Promise<BackupFile> {
    return exportBackup(this.#h);
  }

  /** Restores a backup after verifying it; never resurrects a destroyed key. */
  importBackup(file: unknown): Promise<RestoreResult> {
    return importBackup(this.#h, file);
  }

  /** Zero-fills every cached key. */
  clearCache(): void {
    this.#h.resolver.clear();
  }

  /** Clears the cache and closes the key store and root key. */
  async close(): Promise<void> {
    await this.#h.resolver.revocations.close();
    this.clearCache();
    await this.#h.keyStore.close();
    await this.#h.rootKey.close();
  }
}
