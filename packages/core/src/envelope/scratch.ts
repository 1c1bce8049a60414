/**
 * A reusable byte buffer for the synchronous envelope hot path, so encoding and decoding one value
 * allocates nothing but its result. Valid until the next call that uses the same scratch; never
 * handed to callers. Requests larger than the scratch get a fresh buffer.
 *
 * @example
 * ```ts
 * const bytes = bodyScratch.take(length); // at least `length` bytes
 * ```
 */
export class Scratch {
  readonly #bytes: Buffer;
  /** The buffer returned by the last {@link Scratch.take}. */
  current: Buffer;

  constructor(size: number) {
    this.#bytes = Buffer.alloc(size);
    this.current = this.#bytes;
  }

  /** A buffer of at least `length` bytes: the shared one when it fits, else a new one. */
  take(length: number): Buffer {
    this.current = length <= this.#bytes.length ? this.#bytes : Buffer.allocUnsafe(length);
    return this.current;
  }
}

/** Envelope bodies (header ‖ IV ‖ ciphertext ‖ tag): public data, never secret. */
export const bodyScratch = new Scratch(4096);
/** Additional authenticated data: public data, never secret. */
export const aadScratch = new Scratch(1024);
/** Plaintext being encrypted: zero-filled by its user right after use. */
export const plaintextScratch = new Scratch(4096);
