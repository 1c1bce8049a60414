import { writeUtf8 } from './buffer-direct.js';
import { wellFormed } from './value-codec.js';

/** The type byte of a string plaintext (docs/format.md). */
const STRING_TAG = 0x73;

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
