import { randomBytes } from 'node:crypto';
import { CachedKey, KeyCache, KeyClaim, type KeyCacheOptions } from '../cache/key-cache.js';
import { withLeases, type KeyLeases } from '../cache/key-leases.js';
import { RevocationWatch } from '../cache/revocation-watch.js';
import type { KeyChange } from '../key-store/key-changes.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { KeyStore } from '../key-store/key-store.js';
import type { CmkRecord, DekChain, DekRecord, KekRecord } from '../key-store/records.js';
import { isLegacyWrappedDek, unwrapDek, wrapDek } from '../key-wrap/dek-wrap.js';
import { kekBindingMatches } from '../key-wrap/kek-binding.js';
import type { RootKey } from '../root-key/root-key.js';
import type { SecretKey } from '../secret/secret-key.js';
import { assertChainUsable, assertUsable } from './key-state.js';
import type { AuditLog } from './audit-log.js';
import type { RotationPolicies } from '../policy/rotation-policies.js';

/** What the cache remembers about an unwrapped DEK (its authenticated identity). */
export interface DekMeta {
  readonly id: string;
  readonly keyring: string;
  readonly segment: string;
  readonly kekVersion: number;
  /** When the DEK was created (ISO 8601), for the DEK validity period of rotation policies. */
  readonly createdAt: string;
}

/** An unwrapped DEK ready for use, leased to the operation that asked for it. */
export interface UsableDek {
  readonly key: SecretKey;
  readonly meta: DekMeta;
}

/**
 * Whether wrapped keys in the legacy, unbound formats are accepted (see docs/keystore.md).
 *
 * @example
 * ```ts
 * const legacyKeys: LegacyKeys = 'refuse'; // once `keystrata rewrap` migrated every key (hierarchy.legacyKeys())
 * const hierarchy = await KeyHierarchy.create({ rootKey, keyStore, legacyKeys });
 * ```
 */
export type LegacyKeys = 'accept' | 'refuse';

const segmentKey = (keyring: string, segment: string): string => `${keyring}\u0000${segment}`;
const dekMeta = (dek: DekRecord): DekMeta => ({ id: dek.id, keyring: dek.keyring, segment: dek.segment, kekVersion: dek.kekVersion, createdAt: dek.createdAt });

/** A KeystrataError becomes the item's result; anything else is a bug and propagates. */
async function settle<T>(promise: Promise<T>): Promise<T | KeystrataError> {
  try {
    return await promise;
  } catch (error) {
    if (KeystrataError.isInstance(error)) return error;
    throw error;
  }
}

/**
 * Finds, unwraps and caches keys: DEKs by id for decryption (one batched key-store query for all
 * misses), the current DEK of each segment for encryption (created on first use, re-checked in the
 * key store every `writeRecheckMs`), and KEKs through the root key. Concurrent misses of one key
 * share one unwrap; every key an operation uses is leased to its {@link KeyLeases} and stays valid
 * until the operation releases them, whatever the cache evicts meanwhile.
 */
export class KeyResolver {
  readonly deks: KeyCache<DekMeta>;
  readonly keks: KeyCache<{ keyring: string; version: number }>;
  /** Per-field blind-index keys derived from a keyring's index DEK. */
  readonly fieldKeys: KeyCache<{ keyring: string; dekId: string }>;
  readonly #current = new Map<string, { id: string; checkUntil: number }>();
  readonly #pointerMs: number;
  /** See {@link KeyCacheOptions.writeRecheckMs}; DEK rotation waits this long before verifying. */
  readonly writeRecheckMs: number;

  /** Evicts what other processes revoked (`cache.revocationCheckMs`, PostgreSQL LISTEN/NOTIFY). */
  readonly revocations: RevocationWatch;

  #legacyPolicy: Promise<LegacyKeys> | undefined;
  /** Rotation policies (usage counting, validity periods), set by the hierarchy once created. */
  policies: RotationPolicies | undefined;

  constructor(
    private readonly rootKey: RootKey,
    private readonly keyStore: KeyStore,
    private readonly audit: AuditLog,
    cache: KeyCacheOptions,
    readonly legacyKeys: LegacyKeys = 'accept',
  ) {
    this.deks = new KeyCache(cache);
    this.keks = new KeyCache(cache);
    this.fieldKeys = new KeyCache(cache);
    this.writeRecheckMs = cache.writeRecheckMs ?? 1000;
    if (!(this.writeRecheckMs >= 0)) throw new KeystrataError('CONFIG_INVALID', 'cache.writeRecheckMs must be zero or more.');
    this.#pointerMs = Math.min(this.writeRecheckMs, cache.maxAgeMs ?? 60_000);
    const checkMs = cache.revocationCheckMs ?? 1000;
    if (typeof checkMs !== 'number' || !(checkMs >= 0)) throw new KeystrataError('CONFIG_INVALID', 'cache.revocationCheckMs must be zero or more (ms).');
    this.revocations = new RevocationWatch({ keyStore, checkMs, evict: (change) => this.evictChange(change), evictAll: () => this.clear(), ...(cache.now ? { now: cache.now } : {}) });
  }

  /** Resolves at once, or after the re-check of other processes' revocations that is due (see {@link RevocationWatch}). */
  #revocationsChecked(): Promise<void> | undefined {
    return this.revocations.beforeServe();
  }

  /** Evicts the keys one logged key change names (another process revoked, destroyed or re-enabled them). */
  evictChange(change: KeyChange): void {
    if (change.level === 'dek') this.evict({ keyring: change.keyring, segment: change.segment, dekId: change.id });
    // A revoked KEK: every DEK of the keyring goes, since a DEK cached under one KEK version may have been re-wrapped under this one since.
    else if (change.level === 'kek') this.evict(change.state === 'disabled' || change.state === 'destroyed' ? { keyring: change.keyring } : { keyring: change.keyring, kekVersion: Number(change.id) });
    // A new primary CMK (end of a rotation) leaves every key usable; any other CMK change revokes the keyring.
    else if (change.state !== 'primary') this.evict({ keyring: change.keyring });
  }

  /**
   * Whether legacy (unbound) keys are accepted here: `'refuse'` when configured, and also when the
   * key store was started bound-only ({@link AuditLog.boundOnly}), whatever `legacyKeys` says.
   * Asked once per hierarchy, and only when a legacy key shows up.
   */
  legacyPolicy(): Promise<LegacyKeys> {
    if (this.legacyKeys === 'refuse') return Promise.resolve('refuse');
    this.#legacyPolicy ??= this.audit.boundOnly().then(
      (boundOnly): LegacyKeys => (boundOnly ? 'refuse' : 'accept'),
      (error: unknown) => {
        this.#legacyPolicy = undefined;
        throw error;
      },
    );
    return this.#legacyPolicy;
  }

  /** Unwrapped DEKs for `ids`, leased to `leases`; a DEK that cannot be used maps to its typed error. */
  async decryptionKeys(ids: readonly string[], uses: ReadonlyMap<string, number>, leases: KeyLeases): Promise<Map<string, UsableDek | KeystrataError>> {
    const checked = this.#revocationsChecked();
    if (checked !== undefined) await checked;
    const found = new Map<string, UsableDek | KeystrataError>();
    const waiting: Array<Promise<void>> = [];
    const claims = new Map<string, KeyClaim<DekMeta>>();
    for (const id of ids) {
      const got = this.deks.acquire(`dek:${id}`, leases, uses.get(id) ?? 1);
      if (got instanceof CachedKey) found.set(id, got);
      else if (got instanceof KeyClaim) claims.set(id, got);
      else waiting.push(settle(got).then((result) => void found.set(id, result)));
    }
    if (claims.size > 0) await this.#loadClaims(claims, found, leases);
    await Promise.all(waiting);
    return found;
  }

  /** One key-store query for the claimed DEKs, then one unwrap each; every claim is settled. */
  async #loadClaims(claims: Map<string, KeyClaim<DekMeta>>, found: Map<string, UsableDek | KeystrataError>, leases: KeyLeases): Promise<void> {
    try {
      const chains = await this.keyStore.loadDekChains([...claims.keys()]);
      await Promise.all(
        chains.map(async (chain) => {
          const claim = claims.get(chain.dek.id);
          if (claim === undefined) return;
          claims.delete(chain.dek.id);
          found.set(chain.dek.id, await settle(this.#fulfil(claim, chain, leases)));
        }),
      );
    } catch (error) {
      for (const claim of claims.values()) claim.fail(error);
      claims.clear();
      throw error;
    } finally {
      for (const [id, claim] of claims) {
        // A well-formed envelope naming no known DEK: its header was altered, or it belongs to another key store.
        const error = new KeystrataError('CIPHERTEXT_TAMPERED', `The value names DEK ${id}, which is not in this key store: it was modified, or written with another key store.`, {
          details: { dek: id },
        });
        claim.fail(error);
        found.set(id, error);
      }
    }
  }

  async #fulfil(claim: KeyClaim<DekMeta>, chain: DekChain, leases: KeyLeases): Promise<CachedKey<DekMeta>> {
    let key: SecretKey;
    try {
      key = await this.#unwrapDek(chain, leases);
    } catch (error) {
      claim.fail(error);
      throw error;
    }
    return claim.fulfil(key, dekMeta(chain.dek));
  }

  /** A chain's DEK, leased: from the cache, another caller's unwrap, or unwrapped here. */
  #dekFromChain(chain: DekChain, leases: KeyLeases, uses = 1): Promise<CachedKey<DekMeta>> {
    return this.deks.leaseOrLoad(`dek:${chain.dek.id}`, leases, uses, async () => ({ key: await this.#unwrapDek(chain, leases), meta: dekMeta(chain.dek) }));
  }

  /** Checks the chain's states, then unwraps the DEK under its KEK, bound to the identity its row claims. */
  async #unwrapDek(chain: DekChain, leases: KeyLeases): Promise<SecretKey> {
    assertChainUsable(chain);
    const { dek } = chain;
    const kek = await this.#kek(chain, leases);
    const legacy = isLegacyWrappedDek(dek.wrapped) ? await this.legacyPolicy() : this.legacyKeys;
    try {
      return unwrapDek(kek.exposeSecretBytes(), dek.wrapped, dek, { legacy });
    } catch (error) {
      await this.audit.recordQuietly('unwrap-failed', `dek:${dek.id}`, { keyring: dek.keyring, segment: dek.segment });
      throw error;
    }
  }

  /** The plaintext KEK of a chain, leased: from the cache or one HSM unwrap shared by concurrent callers. */
  async #kek(chain: { kek: KekRecord | undefined; cmk: CmkRecord | undefined }, leases: KeyLeases): Promise<SecretKey> {
    const { kek, cmk } = chain;
    if (kek === undefined || cmk === undefined) throw new KeystrataError('KEY_NOT_FOUND', 'A KEK or CMK version is missing from the key store.');
    const entry = await this.keks.leaseOrLoad(`kek:${kek.keyring}:${kek.version}`, leases, 1, async () => ({
      key: await this.#unwrapKek(kek, cmk),
      meta: { keyring: kek.keyring, version: kek.version },
    }));
    return entry.key;
  }

  /** Unwraps a KEK in the HSM and checks its binding; a mismatch is KEYSTORE_TAMPERED, audited. */
  async #unwrapKek(kek: KekRecord, cmk: CmkRecord): Promise<SecretKey> {
    const subject = `kek:${kek.keyring}:v${kek.version}`;
    const refuse = async (what: string): Promise<never> => {
      await this.audit.recordQuietly('unwrap-failed', subject, { cmkVersion: kek.cmkVersion });
      throw new KeystrataError('KEYSTORE_TAMPERED', `The wrapped KEK ${kek.keyring} v${kek.version} ${what}: its key-store row was edited, swapped or replayed.`, {
        details: { keyring: kek.keyring, version: kek.version },
      });
    };
    const wrapped = Buffer.from(kek.wrapped, 'base64');
    // The blob is the root key's format (opaque here): it refuses one it cannot explain with CIPHERTEXT_TAMPERED
    // (details.length, no HSM operation) before any HSM call.
    let key: SecretKey;
    try {
      key = await this.rootKey.unwrapKek({ label: cmk.hsmLabel, id: cmk.hsmId }, wrapped);
    } catch (error) {
      if (KeystrataError.isInstance(error, 'CIPHERTEXT_TAMPERED')) {
        const beforeHsm = error.details.length !== undefined && error.details.operation === undefined;
        return refuse(beforeHsm ? `has the wrong length (${wrapped.length} bytes) or format header` : `does not unwrap under CMK v${cmk.version}`);
      }
      throw error;
    }
    const binding = kek.binding ?? '';
    let refused: string | undefined;
    try {
      if (binding === '') refused = (await this.legacyPolicy()) === 'refuse' ? 'has no binding, which this key store refuses (it was started with key bindings, or `legacyKeys: "refuse"`)' : undefined;
      else refused = kekBindingMatches(key.exposeSecretBytes(), kek.keyring, kek.version, binding) ? undefined : 'does not match its binding';
    } catch (error) {
      key.destroy();
      throw error;
    }
    if (refused !== undefined) {
      key.destroy();
      return refuse(refused);
    }
    return key;
  }

  /**
   * The current DEK of each segment, leased, creating version 1 where a segment has none. A
   * segment's cached current DEK is re-checked in the key store (one query for the batch) at most
   * every `writeRecheckMs`: a superseded DEK is replaced by the new primary, a revoked one refused.
   * With `uses` (values to seal per segment), they are counted against the keyring's rotation
   * policy, which may first replace a segment's DEK (docs/rotation-policies.md).
   */
  async encryptionKeys(keyring: string, segments: readonly string[], leases: KeyLeases, uses?: ReadonlyMap<string, number>): Promise<Map<string, UsableDek>> {
    const checked = this.#revocationsChecked();
    if (checked !== undefined) await checked;
    // A due KEK rotation happens before new DEKs are created (lazily, when the policy is read again).
    const refreshing = uses === undefined ? undefined : this.policies?.refresh(keyring);
    if (refreshing !== undefined) await refreshing;
    const keys = await this.#currentKeys(keyring, segments, leases);
    if (uses === undefined || this.policies === undefined) return keys;
    const reselect = async (segment: string): Promise<UsableDek> => {
      this.evict({ keyring, segment });
      return (await this.#currentKeys(keyring, [segment], leases)).get(segment)!;
    };
    await this.policies.admit(keyring, keys, uses, reselect);
    return keys;
  }

  async #currentKeys(keyring: string, segments: readonly string[], leases: KeyLeases): Promise<Map<string, UsableDek>> {
    const out = new Map<string, UsableDek>();
    const missing: string[] = [];
    const now = Date.now();
    for (const segment of segments) {
      const current = this.#current.get(segmentKey(keyring, segment));
      const hit = current !== undefined && current.checkUntil > now ? this.deks.lease(`dek:${current.id}`, leases) : undefined;
      if (hit === undefined) missing.push(segment);
      else out.set(segment, hit);
    }
    if (missing.length === 0) return out;
    const latest = new Map((await this.keyStore.loadLatestDekChains(keyring, missing)).map((c) => [c.dek.segment, c]));
    const fresh = missing.filter((segment) => !latest.has(segment));
    if (fresh.length > 0) for (const chain of await this.createDeks(keyring, fresh, 1, leases)) latest.set(chain.dek.segment, chain);
    await Promise.all(
      missing.map(async (segment) => {
        const chain = latest.get(segment)!;
        if (chain.dek.state !== 'primary') assertUsable(`The current DEK of segment "${segment}"`, chain.dek.state === 'enabled' ? 'disabled' : chain.dek.state);
        assertChainUsable(chain);
        const usable = await this.#dekFromChain(chain, leases);
        // The cached identity was authenticated at unwrap: a row relabelled to another segment is refused, warm or cold.
        if (usable.meta.keyring !== keyring || usable.meta.segment !== segment) {
          throw new KeystrataError(
            'KEYSTORE_TAMPERED',
            `The key store names DEK ${chain.dek.id} as the current DEK of segment "${segment}", but that DEK belongs to another segment: its row was edited or swapped.`,
            { details: { dek: chain.dek.id, keyring } },
          );
        }
        this.#current.set(segmentKey(keyring, segment), { id: chain.dek.id, checkUntil: now + this.#pointerMs });
        out.set(segment, usable);
      }),
    );
    return out;
  }

  /**
   * Creates DEK `version` for each segment under the keyring's primary KEK, wrapped bound to its
   * identity, with one audit record for the batch. Where another process won the race for a
   * segment, its DEK is returned instead.
   */
  async createDeks(keyring: string, segments: readonly string[], version: number, leases?: KeyLeases): Promise<DekChain[]> {
    return withLeases(leases, async (held) => {
      const kekChain = await this.primaryKek(keyring);
      const kek = await this.#kek(kekChain, held);
      const at = new Date().toISOString();
      const created: DekChain[] = [];
      const secrets = new Map<string, Buffer>();
      const lost: string[] = [];
      try {
        for (const segment of segments) {
          const bytes = randomBytes(32);
          const identity = { id: randomBytes(16).toString('hex'), keyring, segment, version, kekVersion: kekChain.kek.version };
          const dek: DekRecord = { ...identity, wrapped: wrapDek(kek.exposeSecretBytes(), bytes, identity), state: 'primary', createdAt: at, updatedAt: at };
          if (await this.keyStore.insertDek(dek)) {
            created.push({ dek, kek: kekChain.kek, cmk: kekChain.cmk });
            secrets.set(dek.id, bytes);
          } else {
            bytes.fill(0);
            lost.push(segment);
          }
        }
        if (created.length > 0) await this.#moveOffDestroyedKek(keyring, created, secrets, held);
      } finally {
        for (const bytes of secrets.values()) bytes.fill(0);
      }
      if (created.length > 0) {
        const ids = created.map((c) => c.dek.id);
        await this.audit.record('generate', created.length === 1 ? `dek:${ids[0]}` : `deks:${keyring}`, {
          keyring,
          version,
          kekVersion: kekChain.kek.version,
          count: created.length,
          ids: ids.join(','),
        });
      }
      if (lost.length > 0) created.push(...(await this.keyStore.loadLatestDekChains(keyring, lost)));
      return created;
    });
  }

  /**
   * After inserting new DEKs: when the KEK they were wrapped under was destroyed meanwhile (a shred
   * epoch ran between reading the primary KEK and the insert), re-wraps them under the current
   * primary KEK, so no live DEK ends under a destroyed KEK. Updates `created` in place.
   */
  async #moveOffDestroyedKek(keyring: string, created: DekChain[], secrets: ReadonlyMap<string, Buffer>, held: KeyLeases): Promise<void> {
    const kekVersion = created[0]!.dek.kekVersion;
    const current = (await this.keyStore.listKeks(keyring)).find((k) => k.version === kekVersion);
    if (current !== undefined && current.state !== 'destroyed' && current.state !== 'retired' && current.wrapped !== '') return;
    const target = await this.primaryKek(keyring);
    const targetKey = await this.#kek(target, held);
    for (const [index, chain] of created.entries()) {
      const identity = { ...chain.dek, kekVersion: target.kek.version };
      const wrapped = wrapDek(targetKey.exposeSecretBytes(), secrets.get(chain.dek.id)!, identity);
      const at = new Date().toISOString();
      if (await this.keyStore.replaceDekWrapping(chain.dek.id, chain.dek.wrapped, { wrapped, kekVersion: target.kek.version, at })) {
        created[index] = { dek: { ...chain.dek, wrapped, kekVersion: target.kek.version, updatedAt: at }, kek: target.kek, cmk: target.cmk };
      } else {
        // The shred epoch moved it first: its row as it is now.
        const [now] = await this.keyStore.loadDekChains([chain.dek.id]);
        if (now !== undefined) created[index] = now;
      }
    }
  }

  /** The keyring's primary KEK with its CMK version. */
  async primaryKek(keyring: string): Promise<{ kek: KekRecord; cmk: CmkRecord }> {
    const keks = await this.keyStore.listKeks(keyring);
    const kek = keks.filter((k) => k.state === 'primary').at(-1);
    if (kek === undefined) throw new KeystrataError('KEY_NOT_FOUND', `Keyring "${keyring}" has no primary KEK; run \`keystrata init\` for it.`, { details: { keyring } });
    const cmk = (await this.keyStore.listCmks(keyring)).find((c) => c.version === kek.cmkVersion);
    assertUsable(`CMK ${keyring} v${kek.cmkVersion}`, cmk?.state);
    return { kek, cmk: cmk! };
  }

  /** Drops cached keys and current-DEK pointers matching a keyring (and segment); leased copies live until released. */
  evict(match: { keyring?: string; segment?: string; dekId?: string; kekVersion?: number }): void {
    this.deks.deleteWhere(
      (_id, meta) =>
        (match.dekId === undefined || meta.id === match.dekId) &&
        (match.kekVersion === undefined || meta.kekVersion === match.kekVersion) &&
        (match.keyring === undefined || meta.keyring === match.keyring) &&
        (match.segment === undefined || meta.segment === match.segment),
    );
    if (match.segment === undefined || match.segment.startsWith('__keystrata')) {
      this.fieldKeys.deleteWhere((_, meta) => (match.dekId === undefined || meta.dekId === match.dekId) && (match.keyring === undefined || meta.keyring === match.keyring));
    }
    if (match.dekId === undefined && match.segment === undefined) {
      this.keks.deleteWhere((_, meta) => (match.keyring === undefined || meta.keyring === match.keyring) && (match.kekVersion === undefined || meta.version === match.kekVersion));
    }
    for (const key of [...this.#current.keys()]) {
      const [keyring, segment] = key.split('\u0000');
      if ((match.keyring === undefined || keyring === match.keyring) && (match.segment === undefined || segment === match.segment)) this.#current.delete(key);
    }
  }

  /**
   * Unwraps a KEK for maintenance jobs (rewrap), through the cache, leased to `leases` (valid until
   * they are released). Without leases the key is only valid until the next `await`.
   */
  async kekFor(chain: { kek: KekRecord | undefined; cmk: CmkRecord | undefined }, leases?: KeyLeases): Promise<SecretKey> {
    return withLeases(leases, (held) => this.#kek(chain, held));
  }

  clear(): void {
    this.deks.clear();
    this.keks.clear();
    this.fieldKeys.clear();
    this.#current.clear();
  }
}
