/**
 * A growable byte buffer for packing one native batch (IVs, plaintexts, AADs, bodies). Growing
 * zero-fills the old buffer, which may hold plaintext; {@link BatchBytes.wipe} zero-fills what was
 * used. Never shared between batches.
 *
 * @example
 * ```ts
 * const input = new BatchBytes(4096);
 * const at = input.append(iv);
 * input.wipe();
 * ```
 */
export class BatchBytes {
  bytes: Buffer;
  length = 0;

  constructor(capacity: number) {
    this.bytes = Buffer.alloc(capacity);
  }

  /** Makes room for `extra` more bytes; returns the offset where they go. */
  reserve(extra: number): number {
    const needed = this.length + extra;
    // A size computed from a malformed input (NaN from a non-string record id) must not poison the offsets or the wipe.
    if (!(extra >= 0) || !Number.isSafeInteger(needed)) throw new RangeError('BatchBytes.reserve needs a byte count.');
    if (needed > this.bytes.length) {
      const grown = Buffer.alloc(Math.max(needed, 2 * this.bytes.length));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes.fill(0);
      this.bytes = grown;
    }
    const at = this.length;
    this.length = needed;
    return at;
  }

  /** Copies `source` in; returns its offset. */
  append(source: Uint8Array): number {
    const at = this.reserve(source.length);
    this.bytes.set(source, at);
    return at;
  }

  /** Gives back reserved bytes past `end` (after writing fewer than reserved). */
  truncate(end: number): void {
    this.length = end;
  }

  /** Zero-fills the used part. */
  wipe(): void {
    this.bytes.fill(0, 0, this.length);
  }
}
