import { KeystrataError } from '../errors/keystrata-error.js';
import { readUtf8 } from './buffer-direct.js';
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

function tagged(tag: number, body: string | Uint8Array): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const out = Buffer.allocUnsafe(bytes.length + 1);
  out[0] = tag;
  out.set(bytes, 1);
  return out;
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
  switch (typeof value) {
    case 'string':
      return tagged(TAG.string, wellFormed(value));
    case 'number':
      return tagged(TAG.number, String(value));
    case 'boolean':
      return tagged(TAG.boolean, value ? '1' : '0');
    case 'bigint':
      return tagged(TAG.bigint, value.toString());
    case 'object':
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) break;
        return tagged(TAG.date, value.toISOString());
      }
      if (value instanceof Uint8Array) return tagged(TAG.bytes, value);
      if (value !== null) return tagged(TAG.json, JSON.stringify(value));
  }
  throw new KeystrataError('PLAINTEXT_REJECTED', `A value of type ${value === null ? 'null' : typeof value} cannot be encrypted.`);
}

/**
 * Same bytes as {@link encodeFieldValue}, but a string is written into a shared scratch buffer
 * instead of two new ones. The result is valid until the next call: zero-fill it right after use.
 *
 * @example
 * ```ts
 * const plaintext = writeFieldValue('abc');
 * try { use(plaintext); } finally { plaintext.fill(0); }
 * ```
 */
export function writeFieldValue(value: FieldValue): Buffer {
  if (typeof value !== 'string') return encodeFieldValue(value);
  wellFormed(value);
  // A UTF-16 code unit is at most 3 bytes of UTF-8.
  const bytes = plaintextScratch.take(1 + 3 * value.length);
  bytes[0] = TAG.string;
  return bytes.subarray(0, 1 + bytes.write(value, 1, 'utf8'));
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
      if (String(value) !== body) throw bodyMismatch('n');
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
    case TAG.bytes:
      return Buffer.from(bytes.subarray(1));
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
