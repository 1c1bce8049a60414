import { wellFormed } from './value-codec.js';

/** Strings up to this length are copied by a JavaScript loop when they are ASCII; longer ones by Buffer#write. */
const SHORT_TEXT = 64;
/** The type byte of a string plaintext (docs/format.md). */
const STRING_TAG = 0x73;

/**
 * Writes `text` as UTF-8 at `target[at…]` (which has 3 × its length free) and returns the byte
 * count: short ASCII strings by a plain loop (no call into Node per value), anything else by
 * `Buffer#write`. Same bytes either way.
 *
 * @example
 * ```ts
 * const length = writeUtf8(batch, at, 'p_1');
 * ```
 */
export function writeUtf8(target: Buffer, at: number, text: string): number {
  const length = text.length;
  if (length <= SHORT_TEXT) {
    let k = 0;
    for (; k < length; k++) {
      const code = text.charCodeAt(k);
      if (code > 0x7f) break;
      target[at + k] = code;
    }
    if (k === length) return length;
  }
  return target.write(text, at, 'utf8');
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
  target[at] = STRING_TAG;
  const length = value.length;
  if (length <= SHORT_TEXT) {
    let k = 0;
    for (; k < length; k++) {
      const code = value.charCodeAt(k);
      if (code > 0x7f) break;
      target[at + 1 + k] = code;
    }
    if (k === length) return 1 + length; // ASCII: well formed
  }
  wellFormed(value);
  return 1 + target.write(value, at + 1, 'utf8');
}
