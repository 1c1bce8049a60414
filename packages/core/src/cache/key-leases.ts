import type { SecretKey } from '../secret/secret-key.js';

/**
 * One unwrapped key as the {@link KeyCache} holds it: zero-filled once it is evicted and no
 * operation holds a lease on it.
 *
 * @example
 * ```ts
 * const entry = cache.lease('dek:…', leases);
 * entry?.key.exposeSecretBytes(); // valid until leases.release()
 * ```
 */
export class CachedKey<M> {
  uses = 0;
  #leases = 0;
  #evicted = false;

  constructor(
    readonly key: SecretKey,
    readonly meta: M,
    readonly expiresAt: number,
  ) {}

  /** Whether the cache dropped it (its bytes live on while leased). */
  get evicted(): boolean {
    return this.#evicted;
  }

  /** @internal */
  pin(): void {
    this.#leases++;
  }

  /** @internal */
  unpin(): void {
    if (--this.#leases === 0 && this.#evicted) this.key.destroy();
  }

  /** @internal Removed from the cache: zero-fill now, or when the last lease is released. */
  evict(): void {
    this.#evicted = true;
    if (this.#leases === 0) this.key.destroy();
  }
}

/**
 * The keys one operation (a batch, a rewrap, a key creation) uses. Leased keys are never
 * zero-filled under the operation; `release()` when it ends (in a `finally`).
 *
 * @example
 * ```ts
 * const leases = new KeyLeases();
 * try {
 *   const keys = await resolver.encryptionKeys('default', ['tenant:a'], leases);
 *   // … seal with keys …
 * } finally {
 *   leases.release();
 * }
 * ```
 */
export class KeyLeases {
  readonly #held: Array<CachedKey<unknown>> = [];
  #released = false;

  /** Leases `entry` to this operation (released at once if the operation has already ended). */
  hold(entry: CachedKey<unknown>): void {
    entry.pin();
    if (this.#released) entry.unpin();
    else this.#held.push(entry);
  }

  /** Ends every lease; evicted keys with no other lease are zero-filled now. Idempotent. */
  release(): void {
    this.#released = true;
    for (const entry of this.#held) entry.unpin();
    this.#held.length = 0;
  }
}

/**
 * Runs `run` with the caller's leases, or with leases of its own released when `run` ends.
 *
 * @example
 * ```ts
 * await withLeases(options.leases, (leases) => resolver.encryptionKeys('default', ['tenant:a'], leases));
 * ```
 */
export async function withLeases<T>(leases: KeyLeases | undefined, run: (leases: KeyLeases) => Promise<T>): Promise<T> {
  if (leases !== undefined) return run(leases);
  const own = new KeyLeases();
  try {
    return await run(own);
  } finally {
    own.release();
  }
}
