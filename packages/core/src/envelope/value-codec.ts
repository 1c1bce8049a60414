import { KeystrataError } from '../errors/keystrata-error.js';
import { readUtf8, writeUtf8 } from './buffer-direct.js';
import { plaintextScratch } from './scratch.js';

/**
 * Values an encrypted field can hold. Their type survives the round trip.
 *
 * @example
 * ```ts
 * const value: FieldValue = new Date('2024-01-31T00:00:00.000Z');
 * const stored = await hierarchy.encryptValue(value, context);
 * (await hierarchy.decryptValue(stored, context)) instanceof Date; // true: bigint, Uint8Array and JSON come back as such too
 * ```
 */
export type FieldValue = string | number | boolean | bigint | Date | Uint8Array | { readonly [key: string]: unknown } | readonly unknown[];

const TAG = { string: 0x73, number: 0x6e, boolean: 0x62, bigint: 0x69, date: 0x64, bytes: 0x78, json: 0x6a } as const;

/**
 * The tag and the text of a non-string value's plaintext (its bytes are the tag, then the text as
 * UTF-8), or the bytes themselves for a Uint8Array. Numbers write `-0` as "-0" so it reads back.
 */
function bodyOf(value: Exclude<FieldValue, string>): string | Uint8Array {
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'boolean':
      return value ? '1' : '0';
    case 'bigint':
      return value.toString();
    case 'object':
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) break;
        return value.toISOString();
      }
      if (value instanceof Uint8Array) return value;
      if (value !== null) return JSON.stringify(value);
  }
  throw new KeystrataError('PLAINTEXT_REJECTED', `A value of type ${value === null ? 'null' : typeof value} cannot be encrypted.`);
}

/** The type byte of a value (after {@link bodyOf} accepted it). */
function tagOf(value: FieldValue): number {
  switch (typeof value) {
    case 'string':
      return TAG.string;
    case 'number':
      return TAG.number;
    case 'boolean':
      return TAG.boolean;
    case 'bigint':
      return TAG.bigint;
    default:
      return value instanceof Date ? TAG.date : value instanceof Uint8Array ? TAG.bytes : TAG.json;
  }
}

/**
 * Writes the tag, then `body`, into `target` (which has `1 + 3 × body.length` bytes free when it is
 * text, `1 + body.length` when bytes) and returns the view of what was written. Text goes straight
 * in as UTF-8: no temporary Buffer (a small `Buffer.from` would land in Node's shared pool, which
 * nobody zero-fills).
 */
function writeTagged(target: Buffer, tag: number, body: string | Uint8Array): Buffer {
  target[0] = tag;
  if (typeof body !== 'string') {
    target.set(body, 1);
    return target.subarray(0, 1 + body.length);
  }
  return target.subarray(0, 1 + writeUtf8(target, 1, body));
}

/**
 * Refuses a string with a lone UTF-16 surrogate: UTF-8 cannot carry it, so it would come back as
 * U+FFFD and collide with other strings in blind indexes.
 *
 * @example
 * ```ts
 * wellFormed('abc'); // 'abc'
 * wellFormed('a\uD800'); // throws PLAINTEXT_REJECTED
 * ```
 */
export function wellFormed(value: string): string {
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) {
    throw new KeystrataError(
      'PLAINTEXT_REJECTED',
      'The string contains a lone UTF-16 surrogate, which UTF-8 cannot store; nothing was written. Fix the string (e.g. String.prototype.toWellFormed()).',
    );
  }
  return value;
}

/**
 * Encodes a field value as plaintext bytes: one type tag, then the value. Shared by every adapter
 * and the CLI, so a value written by one is read with the same type by the others.
 *
 * @example
 * ```ts
 * encodeFieldValue('abc'); // <73 61 62 63>
 * ```
 */
export function encodeFieldValue(value: FieldValue): Buffer {
  const body = typeof value === 'string' ? wellFormed(value) : bodyOf(value);
  // Its own memory, never a slice of the shared pool: the caller owns (and zero-fills) it.
  const length = 1 + (typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length);
  return writeTagged(Buffer.allocUnsafeSlow(length), tagOf(value), body);
}

/**
 * Same bytes as {@link encodeFieldValue}, but written into a shared scratch buffer instead of a new
 * one. The result is valid until the next call: zero-fill it right after use.
 *
 * @example
 * ```ts
 * const plaintext = writeFieldValue('abc');
 * try { use(plaintext); } finally { plaintext.fill(0); }
 * ```
 */
export function writeFieldValue(value: FieldValue): Buffer {
  const body = typeof value === 'string' ? wellFormed(value) : bodyOf(value);
  // A UTF-16 code unit is at most 3 bytes of UTF-8.
  return writeTagged(plaintextScratch.take(1 + (typeof body === 'string' ? 3 : 1) * body.length), tagOf(value), body);
}

/**
 * Decodes plaintext bytes made by {@link encodeFieldValue}.
 *
 * @example
 * ```ts
 * decodeFieldValue(encodeFieldValue(42)); // 42
 * ```
 */
export function decodeFieldValue(bytes: Buffer): FieldValue {
  const text = () => bytes.toString('utf8', 1);
  switch (bytes[0]) {
    case TAG.string:
      return text();
    case TAG.number: {
      const body = text();
      const value = Number(body);
      if ((Object.is(value, -0) ? '-0' : String(value)) !== body) throw bodyMismatch('n');
      return value;
    }
    case TAG.boolean:
      if (bytes.length !== 2 || (bytes[1] !== 0x30 && bytes[1] !== 0x31)) throw bodyMismatch('b');
      return bytes[1] === 0x31;
    case TAG.bigint: {
      const body = text();
      if (!/^-?\d+$/.test(body)) throw bodyMismatch('i');
      return BigInt(body);
    }
    case TAG.date: {
      const body = text();
      const value = new Date(body);
      if (Number.isNaN(value.getTime()) || value.toISOString() !== body) throw bodyMismatch('d');
      return value;
    }
    case TAG.bytes: {
      // Its own memory, not a slice of Node's shared pool (where it would sit beside other values, and outlive its zero-fill by the caller).
      const value = Buffer.allocUnsafeSlow(bytes.length - 1);
      bytes.copy(value, 0, 1);
      return value;
    }
    case TAG.json:
      try {
        return JSON.parse(text()) as FieldValue;
      } catch {
        throw bodyMismatch('j'); // never the SyntaxError: its message quotes the plaintext
      }
  }
  throw new KeystrataError('CIPHERTEXT_MALFORMED', 'The decrypted value has an unknown type tag.', {
    hint: 'The envelope is authentic but its body is of a type this version does not know (written by a newer Keystrata?): upgrade, or report it. The value was not returned.',
  });
}

/**
 * {@link decodeFieldValue} of `bytes[start…end)` without a view per value (a string is read
 * straight out of the batch). Same values, same errors.
 *
 * @example
 * ```ts
 * const value = decodeFieldValueAt(output, at, at + length);
 * ```
 */
export function decodeFieldValueAt(bytes: Buffer, start: number, end: number): FieldValue {
  if (end > start && bytes[start] === TAG.string) return readUtf8(bytes, start + 1, end);
  return decodeFieldValue(bytes.subarray(start, end));
}

/** An authentic value whose body is not what its type tag says; the message never quotes it. */
function bodyMismatch(tag: string): KeystrataError {
  return new KeystrataError(
    'CIPHERTEXT_MALFORMED',
    `The decrypted value's body does not match its type tag "${tag}" (it was written by other software, or by a faulty encoder); it was not returned.`,
    { details: { tag } },
  );
}
