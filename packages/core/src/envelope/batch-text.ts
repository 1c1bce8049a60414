import { wellFormed } from './value-codec.js';

/** The method `Buffer#write(text, at, 'utf8')` ends in, without its argument parsing (half the cost for a short string). */
interface Utf8Write {
  utf8Write(text: string, offset: number): number;
}
/** Node's Buffers have it (undocumented, but what `Buffer#write` calls); anything else gets `Buffer#write`. */
const direct = typeof (Buffer.prototype as Partial<Utf8Write>).utf8Write === 'function';
/** The type byte of a string plaintext (docs/format.md). */
const STRING_TAG = 0x73;

/**
 * Writes `text` as UTF-8 at `target[at…]` (which has 3 × its length free) and returns the byte
 * count: the same bytes as `target.write(text, at, 'utf8')`, without its per-call argument parsing.
 *
 * @example
 * ```ts
 * const length = writeUtf8(batch, at, 'p_1');
 * ```
 */
export function writeUtf8(target: Buffer, at: number, text: string): number {
  return direct ? (target as Buffer & Utf8Write).utf8Write(text, at) : target.write(text, at, 'utf8');
}

/**
 * Writes a string's typed plaintext (the type byte, then its UTF-8) at `target[at…]`, which has
 * `1 + 3 × value.length` bytes free, refusing a lone surrogate as `encodeFieldValue` does. Returns
 * its length.
 *
 * @example
 * ```ts
 * const length = writeStringPlaintext(batch, at, 'ada@example.com');
 * ```
 */
export function writeStringPlaintext(target: Buffer, at: number, value: string): number {
  wellFormed(value);
  target[at] = STRING_TAG;
  return 1 + writeUtf8(target, at + 1, value);
}
