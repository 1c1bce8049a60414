import { inspect } from 'node:util';
import { KeystrataError } from '../errors/keystrata-error.js';

/**
 * Plaintext key material held in process memory. Reading the bytes takes an explicit,
 * greppable call ({@link SecretKey.exposeSecretBytes}); {@link SecretKey.destroy} zero-fills them.
 * The key prints as `SecretKey(<destroyed|32 bytes>)` and serialises to nothing.
 *
 * @example
 * ```ts
 * const key = SecretKey.takeOwnership(randomBytes(32));
 * cipher(key.exposeSecretBytes());
 * key.destroy(); // zero-filled
 * ```
 */
export class SecretKey {
  #bytes: Buffer | undefined;
  #native: { release(): void } | undefined;
  readonly length: number;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
    this.length = bytes.length;
  }

  /** Wraps `bytes` without copying; the caller must not keep or reuse the Buffer. */
  static takeOwnership(bytes: Buffer): SecretKey {
    return new SecretKey(bytes);
  }

  /** The raw key bytes. Never log, persist or return them; they are zero-filled on destroy. */
  exposeSecretBytes(): Buffer {
    if (this.#bytes === undefined) {
      throw new KeystrataError('KEY_DESTROYED', 'This in-memory key was already zero-filled (evicted from the cache).', {
        hint: 'An in-memory copy was dropped while still in use: this is an internal error, not crypto-shredding, and the stored key is intact. Retry the operation and report it.',
      });
    }
    return this.#bytes;
  }

  /**
   * A native copy of the key (the batch AES-GCM addon's key handle), made by `create` from the
   * bytes on first use and kept beside them, so every later batch reuses it without copying the
   * key again. {@link SecretKey.destroy} releases it (zero-filled in native memory) with the bytes,
   * so eviction, revocation and `clearCache()` reach it too; a leased key is never destroyed. One
   * kind of handle per key: a DEK gets an AES-GCM key, a blind-index field key an HMAC key.
   */
  nativeHandle<T extends { release(): void }>(create: (bytes: Buffer) => T): T {
    const bytes = this.exposeSecretBytes();
    this.#native ??= create(bytes);
    return this.#native as T;
  }

  /** Whether {@link SecretKey.destroy} has run. */
  get destroyed(): boolean {
    return this.#bytes === undefined;
  }

  /** Zero-fills the bytes and releases the native copy, if any; idempotent. */
  destroy(): void {
    this.#bytes?.fill(0);
    this.#bytes = undefined;
    this.#native?.release();
    this.#native = undefined;
  }

  toJSON(): string {
    return '[SecretKey]';
  }

  toString(): string {
    return '[SecretKey]';
  }

  [inspect.custom](): string {
    return `SecretKey(${this.destroyed ? 'destroyed' : `${this.length} bytes`})`;
  }
}
