import { createHmac, timingSafeEqual } from 'node:crypto';
import { lengthPrefixed } from './identity-bytes.js';

const DOMAIN = 'keystrata/kek-binding/v1';
/** Prefix of a stored KEK binding; '' marks a legacy KEK created before bindings existed. */
const KEK_BINDING_PREFIX = 'b1.';

/**
 * The binding of a KEK to its identity: `b1.` + base64(HMAC-SHA256(KEK, `keystrata/kek-binding/v1`
 * ‖ lp(keyring) ‖ u32(version))). Computed right after the KEK is generated, checked on every unwrap.
 *
 * @example
 * ```ts
 * const binding = kekBinding(kek.exposeSecretBytes(), 'default', 2);
 * ```
 */
export function kekBinding(kek: Buffer, keyring: string, version: number): string {
  const mac = createHmac('sha256', kek)
    .update(lengthPrefixed(DOMAIN, keyring, version))
    .digest();
  return KEK_BINDING_PREFIX + mac.toString('base64');
}

/**
 * Whether `binding` is the binding of this KEK under this identity (constant-time compare).
 *
 * @example
 * ```ts
 * if (!kekBindingMatches(kek.exposeSecretBytes(), record.keyring, record.version, record.binding)) refuse();
 * ```
 */
export function kekBindingMatches(kek: Buffer, keyring: string, version: number, binding: string): boolean {
  const expected = Buffer.from(kekBinding(kek, keyring, version), 'utf8');
  const actual = Buffer.from(binding, 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
