import { createHmac, timingSafeEqual } from 'node:crypto';
import { hkdfSha256 } from '../crypto/hkdf.js';
import { type FieldValue, writeFieldValue } from '../envelope/value-codec.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { SecretKey } from '../secret/secret-key.js';

/**
 * Prefix of a version-1 blind index.
 *
 * @example
 * ```ts
 * import { BLIND_INDEX_PREFIX } from '@keystrata/core/adapter';
 * const isBlindIndex = (value: string) => value.startsWith(BLIND_INDEX_PREFIX);
 * ```
 */
export const BLIND_INDEX_PREFIX = 'bi1.';

const INFO_LABEL = 'keystrata/blind-index/v1';

/**
 * Refuses a keyring, model or field name that contains NUL, the separator of the blind-index key
 * derivation: without NUL in the parts, `label ‖ 0 ‖ keyring ‖ 0 ‖ model ‖ 0 ‖ field` splits back
 * into exactly one (keyring, model, field), so two different fields never share an index key, and
 * every index written so far keeps its key (the derivation itself is unchanged).
 *
 * @example
 * ```ts
 * checkBlindIndexNames('default', 'Patient', 'email'); // ok
 * checkBlindIndexNames('default', 'Patient\u0000x', 'email'); // throws CONFIG_INVALID
 * ```
 */
export function checkBlindIndexNames(keyring: string, model: string, field: string): void {
  for (const [what, name] of [
    ['keyring', keyring],
    ['model', model],
    ['field', field],
  ] as const) {
    if (typeof name !== 'string' || name === '' || name.includes('\u0000')) {
      throw new KeystrataError('CONFIG_INVALID', `A blind index needs a non-empty ${what} name without NUL characters.`, {
        hint: 'Model, field and keyring names of an indexed field must be non-empty and must not contain U+0000; rename the field in your schema.',
      });
    }
  }
}

/**
 * The HKDF info of a field's blind-index key: `keystrata/blind-index/v1 ‖ 0 ‖ keyring ‖ 0 ‖ model ‖ 0 ‖ field`
 * (UTF-8), unambiguous because no part may contain NUL.
 *
 * @example
 * ```ts
 * blindIndexInfo('default', 'Patient', 'email').toString(); // 'keystrata/blind-index/v1\0default\0Patient\0email'
 * ```
 */
export function blindIndexInfo(keyring: string, model: string, field: string): Buffer {
  // Precondition: keyring, model and field contain no NUL (else two fields could share an index key).
  checkBlindIndexNames(keyring, model, field);
  return Buffer.from(`${INFO_LABEL}\u0000${keyring}\u0000${model}\u0000${field}`, 'utf8');
}

/**
 * Derives the per-field blind-index key: HKDF-SHA256 of the keyring's index root key with
 * info {@link blindIndexInfo} (`keystrata/blind-index/v1 ‖ keyring ‖ model ‖ field`, NUL-separated,
 * no part containing NUL).
 *
 * @example
 * ```ts
 * const key = blindIndexKey(indexRoot, 'default', 'Patient', 'email');
 * ```
 */
export function blindIndexKey(root: SecretKey, keyring: string, model: string, field: string): SecretKey {
  const info = blindIndexInfo(keyring, model, field);
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
