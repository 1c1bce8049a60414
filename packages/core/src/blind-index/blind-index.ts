import { createHmac, timingSafeEqual } from 'node:crypto';
import { hkdfSha256 } from '../crypto/hkdf.js';
import { type FieldValue, writeFieldValue } from '../envelope/value-codec.js';
import { SecretKey } from '../secret/secret-key.js';

/** Prefix of a version-1 blind index. */
export const BLIND_INDEX_PREFIX = 'bi1.';

/**
 * Derives the per-field blind-index key: HKDF-SHA256 of the keyring's index root key with
 * info `keystrata/blind-index/v1 ‖ keyring ‖ model ‖ field`.
 *
 * @example
 * ```ts
 * const key = blindIndexKey(indexRoot, 'default', 'Patient', 'email');
 * ```
 */
export function blindIndexKey(root: SecretKey, keyring: string, model: string, field: string): SecretKey {
  const info = Buffer.from(`keystrata/blind-index/v1\u0000${keyring}\u0000${model}\u0000${field}`, 'utf8');
  return SecretKey.takeOwnership(hkdfSha256(root.exposeSecretBytes(), Buffer.alloc(0), info, 32));
}

/**
 * The blind index of a value: `bi1.` + base64url(HMAC-SHA256(fieldKey, typed value)).
 *
 * @example
 * ```ts
 * const index = blindIndexOf(key, 'ada@example.com'); // 'bi1.…'
 * ```
 */
export function blindIndexOf(key: SecretKey, value: FieldValue): string {
  const bytes = writeFieldValue(value);
  try {
    return BLIND_INDEX_PREFIX + createHmac('sha256', key.exposeSecretBytes()).update(bytes).digest('base64url');
  } finally {
    bytes.fill(0);
  }
}

/**
 * Compares two blind indexes in constant time.
 *
 * @example
 * ```ts
 * blindIndexEquals(row.emailIndex, await hierarchy.blindIndex(input, field));
 * ```
 */
export function blindIndexEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
