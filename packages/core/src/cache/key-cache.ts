import { KeystrataError } from '../errors/keystrata-error.js';
import type { SecretKey } from '../secret/secret-key.js';
import { CachedKey, type KeyLeases } from './key-leases.js';

export { CachedKey, KeyLeases } from './key-leases.js';

/**
 * Limits of the {@link KeyCache}.
 *
 * @example
 * ```ts
 * const cache: KeyCacheOptions = { maxEntries: 10_000, maxAgeMs: 30_000, maxUses: 100_000 };
 * const hierarchy = await KeyHierarchy.create({ rootKey, keyStore, cache });
 * ```
 */
export interface KeyCacheOptions {
  /** Most keys held at once (default 1000). */
  readonly maxEntries?: number;
  /** Longest a key is held, in ms (default 60 000); also how long other processes' revocations take to apply here with a key store that keeps no change log. */
  readonly maxAgeMs?: number;
  /**
   * How often, at most, writes re-check in the key store that a segment's cached DEK is still its
   * current, usable DEK, in ms (default 1000). Bounds how long other processes keep sealing with a
   * rotated or revoked DEK. Not used by the cache itself: the hierarchy reads it.
   */
  readonly writeRecheckMs?: number;
  /**
   * How often, at most, this process asks the key store what changed since its last look (the
   * revocation sequence), in ms (default 1000): before a cached key is served, when the last answer
   * is older than this, one query (shared by concurrent callers) evicts what other processes
   * revoked, disabled or destroyed. Bounds how long they keep decrypting with it. On PostgreSQL,
   * `LISTEN`/`NOTIFY` evicts at once and no query is made while its connection is live; this
   * interval applies while it is down. `0`: a query before every operation. Not used by the cache
   * itself: the hierarchy reads it (docs/many-instances.md).
   */
  readonly revocationCheckMs?: number;
  /** Most uses of a cached key before it is unwrapped again (default unlimited). */
  readonly maxUses?: number;
  /** Clock for tests. */
  readonly now?: () => number;
}

/**
 * Cache counters; `hsmCalls` and `keyStoreQueries` are filled in by the hierarchy.
 *
 * @example
 * ```ts
 * const { size, hits, misses }: KeyCacheStats = hierarchy.stats().deks;
 * console.log(`DEK cache: ${size} keys, ${hits} hits, ${misses} misses`);
 * ```
 */
export interface KeyCacheStats {
  readonly size: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
}

/**
 * A key another caller is unwrapping right now: wait for it instead of unwrapping it again.
 *
 * @example
 * ```ts
 * // The claimer's `pending` is what concurrent `acquire` calls for the same id wait on.
 * const got = cache.acquire(dekId, leases);
 * if (got instanceof KeyClaim) got.pending.promise.then(() => console.log('waiters released'), () => undefined);
 * ```
 */
export class PendingKey<M> {
  readonly #scopes: KeyLeases[] = [];
  readonly promise: Promise<CachedKey<M>>;
  #resolve!: (entry: CachedKey<M>) => void;
  #reject!: (error: unknown) => void;
  uses: number;

  constructor(
    readonly generation: number,
    scope: KeyLeases,
    uses: number,
  ) {
    this.promise = new Promise<CachedKey<M>>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.promise.catch(() => undefined); // a claim nobody waits for must not be an unhandled rejection
    this.#scopes.push(scope);
    this.uses = uses;
  }

  /** Registers one more operation; it is leased the key as soon as the key exists. */
  join(scope: KeyLeases, uses: number): Promise<CachedKey<M>> {
    this.#scopes.push(scope);
    this.uses += uses;
    return this.promise;
  }

  settle(entry: CachedKey<M>): void {
    // Leased before anyone can see it, so no eviction in between can zero-fill it.
    for (const scope of this.#scopes) scope.hold(entry);
    this.#resolve(entry);
  }

  fail(error: unknown): void {
    this.#reject(error);
  }
}

/**
 * The caller unwraps this key itself, then calls `fulfil` (or `fail`) exactly once.
 *
 * @example
 * ```ts
 * const got = cache.acquire(dekId, leases);
 * if (got instanceof KeyClaim) {
 *   try {
 *     got.fulfil(await unwrapDek(dekId), { segment: 'tenant:a' });
 *   } catch (error) {
 *     got.fail(error);
 *     throw error;
 *   }
 * }
 * ```
 */
export class KeyClaim<M> {
  constructor(
    private readonly cache: KeyCache<M>,
    readonly id: string,
    readonly pending: PendingKey<M>,
  ) {}

  /** Caches the key (taking ownership) and leases it to every operation that asked for it. */
  fulfil(key: SecretKey, meta: M): CachedKey<M> {
    return this.cache.settleClaim(this, key, meta);
  }

  /** Passes the error to every operation that waited for this key. */
  fail(error: unknown): void {
    this.cache.failClaim(this, error);
  }
}

/**
 * A bounded LRU of unwrapped keys with leases. An operation leases the keys it uses
 * ({@link KeyLeases}) and releases them when it ends. Every eviction (size, age, uses, revocation,
 * clear, or a second copy of the same key) removes the entry at once; its bytes are zero-filled
 * when the last lease on it is released (at once when none is held). Concurrent misses of one id
 * share one unwrap ({@link KeyCache.acquire}).
 *
 * @example
 * ```ts
 * const cache = new KeyCache<{ segment: string }>({ maxEntries: 100, maxAgeMs: 30_000 });
 * const leases = new KeyLeases();
 * try {
 *   const got = cache.acquire('dek:…', leases);
 *   const entry = got instanceof CachedKey ? got : got instanceof KeyClaim ? got.fulfil(await unwrap(), { segment: 'tenant:a' }) : await got;
 *   use(entry.key.exposeSecretBytes());
 * } finally {
 *   leases.release();
 * }
 * ```
 */
export class KeyCache<M = undefined> {
  readonly #entries = new Map<string, CachedKey<M>>();
  readonly #pending = new Map<string, PendingKey<M>>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #maxUses: number;
  readonly #now: () => number;
  #generation = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(options: KeyCacheOptions = {}) {
    const { maxEntries = 1000, maxAgeMs = 60_000, maxUses = Number.POSITIVE_INFINITY } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new KeystrataError('CONFIG_INVALID', 'cache.maxEntries must be a positive integer.');
    if (!(maxAgeMs > 0)) throw new KeystrataError('CONFIG_INVALID', 'cache.maxAgeMs must be positive.');
    if (!(maxUses >= 1)) throw new KeystrataError('CONFIG_INVALID', 'cache.maxUses must be at least 1.');
    this.#maxEntries = maxEntries;
    this.#maxAgeMs = maxAgeMs;
    this.#maxUses = maxUses;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Returns a live entry and counts `uses`; expired or used-up entries are evicted. Not leased:
   * use the key before the next `await`, or prefer {@link KeyCache.lease}.
   */
  get(id: string, uses = 1): CachedKey<M> | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) {
      this.#misses++;
      return undefined;
    }
    if (entry.expiresAt <= this.#now() || entry.uses + uses > this.#maxUses) {
      this.delete(id);
      this.#misses++;
      return undefined;
    }
    entry.uses += uses;
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    this.#hits++;
    return entry;
  }

  /** A live entry leased to `leases` (its bytes stay valid until `leases.release()`), or undefined. */
  lease(id: string, leases: KeyLeases, uses = 1): CachedKey<M> | undefined {
    const entry = this.get(id, uses);
    if (entry !== undefined) leases.hold(entry);
    return entry;
  }

  /**
   * A leased entry (hit); or the promise of one another caller is unwrapping (the entry is leased
   * to `leases` when it arrives); or a {@link KeyClaim}: the caller unwraps the key and fulfils it.
   */
  acquire(id: string, leases: KeyLeases, uses = 1): CachedKey<M> | Promise<CachedKey<M>> | KeyClaim<M> {
    const hit = this.lease(id, leases, uses);
    if (hit !== undefined) return hit;
    const pending = this.#pending.get(id);
    if (pending !== undefined) return pending.join(leases, uses);
    const created = new PendingKey<M>(this.#generation, leases, uses);
    this.#pending.set(id, created);
    return new KeyClaim(this, id, created);
  }

  /**
   * The leased entry for `id`: a hit, the result of another caller's unwrap of it, or `load()`'s
   * result (cached and shared with callers that ask meanwhile). A failed load fails them all.
   */
  async leaseOrLoad(id: string, leases: KeyLeases, uses: number, load: () => Promise<{ key: SecretKey; meta: M }>): Promise<CachedKey<M>> {
    const got = this.acquire(id, leases, uses);
    if (!(got instanceof KeyClaim)) return got;
    let loaded: { key: SecretKey; meta: M };
    try {
      loaded = await load();
    } catch (error) {
      got.fail(error);
      throw error;
    }
    return got.fulfil(loaded.key, loaded.meta);
  }

  /** @internal Called by {@link KeyClaim.fulfil}. */
  settleClaim(claim: KeyClaim<M>, key: SecretKey, meta: M): CachedKey<M> {
    const { id, pending } = claim;
    if (this.#pending.get(id) === pending) this.#pending.delete(id);
    const entry = new CachedKey(key, meta, this.#now() + this.#maxAgeMs);
    entry.uses = Math.min(pending.uses, this.#maxUses);
    pending.settle(entry); // leased first, so nothing below can zero-fill it under its waiters
    // Evicted while it was being unwrapped (revocation, clear): serve the waiters, never cache it.
    if (pending.generation === this.#generation) this.#insert(id, entry);
    else entry.evict();
    return entry;
  }

  /** @internal Called by {@link KeyClaim.fail}. */
  failClaim(claim: KeyClaim<M>, error: unknown): void {
    if (this.#pending.get(claim.id) === claim.pending) this.#pending.delete(claim.id);
    claim.pending.fail(error);
  }

  /** Adds a key (taking ownership), evicting the least recently used beyond `maxEntries`. */
  set(id: string, key: SecretKey, meta: M): CachedKey<M> {
    const entry = new CachedKey(key, meta, this.#now() + this.#maxAgeMs);
    this.#insert(id, entry);
    return entry;
  }

  #insert(id: string, entry: CachedKey<M>): void {
    this.delete(id);
    this.#entries.set(id, entry);
    while (this.#entries.size > this.#maxEntries) this.delete(this.#entries.keys().next().value!);
  }

  /** Evicts one key; it is zero-filled now, or when its last lease is released. */
  delete(id: string): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    this.#entries.delete(id);
    entry.evict();
    this.#evictions++;
    return true;
  }

  /** Evicts every key whose id or metadata matches; keys being unwrapped right now are not cached. */
  deleteWhere(match: (id: string, meta: M) => boolean): number {
    this.#forgetPending();
    let n = 0;
    for (const [id, entry] of [...this.#entries]) if (match(id, entry.meta) && this.delete(id)) n++;
    return n;
  }

  /** Evicts everything (zero-filled now, or as each last lease is released). */
  clear(): void {
    this.#forgetPending();
    for (const id of [...this.#entries.keys()]) this.delete(id);
  }

  #forgetPending(): void {
    this.#generation++;
    this.#pending.clear();
  }

  get stats(): KeyCacheStats {
    return { size: this.#entries.size, hits: this.#hits, misses: this.#misses, evictions: this.#evictions };
  }
}
