import { KeystrataError } from '../errors/keystrata-error.js';
import type { SecretKey } from '../secret/secret-key.js';

/** Limits of the {@link KeyCache}. */
export interface KeyCacheOptions {
  /** Most keys held at once (default 1000). */
  readonly maxEntries?: number;
  /** Longest a key is held, in ms (default 60 000); also how long other processes' revocations take to apply here. */
  readonly maxAgeMs?: number;
  /**
   * How often, at most, writes re-check in the key store that a segment's cached DEK is still its
   * current, usable DEK, in ms (default 1000). Bounds how long other processes keep sealing with a
   * rotated or revoked DEK. Not used by the cache itself: the hierarchy reads it.
   */
  readonly writeRecheckMs?: number;
  /** Most uses of a cached key before it is unwrapped again (default unlimited). */
  readonly maxUses?: number;
  /** Clock for tests. */
  readonly now?: () => number;
}

/** Cache counters; `hsmCalls` and `keyStoreQueries` are filled in by the hierarchy. */
export interface KeyCacheStats {
  readonly size: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
}

interface Entry<M> {
  readonly key: SecretKey;
  readonly meta: M;
  readonly expiresAt: number;
  uses: number;
}

/**
 * A bounded LRU of unwrapped keys. Every eviction (size, age, uses, revocation, clear)
 * zero-fills the key's bytes.
 *
 * @example
 * ```ts
 * const cache = new KeyCache<{ segment: string }>({ maxEntries: 100, maxAgeMs: 30_000 });
 * cache.set('dek:…', key, { segment: 'tenant:a' });
 * cache.get('dek:…')?.key.exposeSecretBytes();
 * ```
 */
export class KeyCache<M = undefined> {
  readonly #entries = new Map<string, Entry<M>>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #maxUses: number;
  readonly #now: () => number;
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

  /** Returns a live entry and counts one use; expired or used-up entries are evicted. */
  get(id: string, uses = 1): { key: SecretKey; meta: M } | undefined {
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

  /** Adds a key (taking ownership), evicting the least recently used beyond `maxEntries`. */
  set(id: string, key: SecretKey, meta: M): void {
    this.delete(id);
    this.#entries.set(id, { key, meta, expiresAt: this.#now() + this.#maxAgeMs, uses: 0 });
    while (this.#entries.size > this.#maxEntries) this.delete(this.#entries.keys().next().value!);
  }

  /** Evicts and zero-fills one key. */
  delete(id: string): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    this.#entries.delete(id);
    entry.key.destroy();
    this.#evictions++;
    return true;
  }

  /** Evicts every key whose id or metadata matches. */
  deleteWhere(match: (id: string, meta: M) => boolean): number {
    let n = 0;
    for (const [id, entry] of [...this.#entries]) if (match(id, entry.meta) && this.delete(id)) n++;
    return n;
  }

  /** Evicts and zero-fills everything. */
  clear(): void {
    for (const id of [...this.#entries.keys()]) this.delete(id);
  }

  get stats(): KeyCacheStats {
    return { size: this.#entries.size, hits: this.#hits, misses: this.#misses, evictions: this.#evictions };
  }
}
