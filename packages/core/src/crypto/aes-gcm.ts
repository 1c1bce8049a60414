import { createCipheriv, createDecipheriv } from 'node:crypto';
import { KeystrataError } from '../errors/keystrata-error.js';

/**
 * AES-256-GCM parameters used by every envelope: 256-bit key, 96-bit IV, 128-bit tag.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 * import { GCM } from '@keystrata/core/adapter';
 * const iv = randomBytes(GCM.ivLength);
 * ```
 */
export const GCM = { keyLength: 32, ivLength: 12, tagLength: 16 } as const;

/** Output of {@link gcmSeal}. */
export interface GcmSealed {
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

function checkParameters(key: Buffer, iv: Uint8Array): void {
  // Precondition: the key is 256 bits and the IV 96 bits; nothing else is ever accepted.
  if (key.length !== GCM.keyLength) throw new KeystrataError('CONFIG_INVALID', 'AES-256-GCM needs a 32-byte key.');
  if (iv.length !== GCM.ivLength) throw new KeystrataError('CIPHERTEXT_MALFORMED', 'AES-GCM IV must be 96 bits.');
}

/**
 * Encrypts with AES-256-GCM. Pure: the caller supplies a fresh random IV.
 *
 * @example
 * ```ts
 * const { ciphertext, tag } = gcmSeal(key, randomBytes(12), Buffer.from('hi'), aad);
 * ```
 */
export function gcmSeal(key: Buffer, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): GcmSealed {
  checkParameters(key, iv);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM.tagLength });
  cipher.setAAD(aad);
  const first = cipher.update(plaintext);
  const last = cipher.final();
  const ciphertext = last.length === 0 ? first : Buffer.concat([first, last]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/**
 * Decrypts AES-256-GCM and checks the 128-bit tag before any plaintext is returned: on failure
 * the partial output is zero-filled and a `CIPHERTEXT_TAMPERED` error thrown.
 *
 * @example
 * ```ts
 * const plaintext = gcmOpen(key, iv, ciphertext, tag, aad);
 * ```
 */
export function gcmOpen(key: Buffer, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Buffer {
  checkParameters(key, iv);
  // Precondition: the tag is exactly 128 bits (OpenSSL would otherwise accept a 4-byte tag).
  if (tag.length !== GCM.tagLength) throw new KeystrataError('CIPHERTEXT_MALFORMED', 'AES-GCM tag must be 128 bits.');
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: GCM.tagLength });
  decipher.setAuthTag(tag);
  decipher.setAAD(aad);
  const partial = decipher.update(ciphertext);
  try {
    const last = decipher.final();
    return last.length === 0 ? partial : Buffer.concat([partial, last]);
  } catch {
    partial.fill(0);
    throw new KeystrataError('CIPHERTEXT_TAMPERED', 'The authentication tag did not verify.');
  }
}
