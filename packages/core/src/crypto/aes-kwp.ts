import { createCipheriv, createDecipheriv } from 'node:crypto';
import { KeystrataError } from '../errors/keystrata-error.js';
import { SecretKey } from '../secret/secret-key.js';

/** RFC 5649 initial value for AES key wrap with padding. */
const KWP_IV = Buffer.from('a65959a6', 'hex');

function checkWrappingKey(kek: Buffer): void {
  // Precondition: the wrapping key is AES-256.
  if (kek.length !== 32) throw new KeystrataError('CONFIG_INVALID', 'AES-KWP needs a 32-byte wrapping key.');
}

/**
 * Wraps key bytes with AES-256 key wrap with padding (RFC 5649), in process.
 *
 * @example
 * ```ts
 * const wrapped = kwpWrap(kek.exposeSecretBytes(), dek.exposeSecretBytes()); // 40 bytes for a 32-byte key
 * ```
 */
export function kwpWrap(kek: Buffer, keyBytes: Uint8Array): Buffer {
  checkWrappingKey(kek);
  if (keyBytes.length === 0) throw new KeystrataError('CONFIG_INVALID', 'Cannot wrap an empty key.');
  const cipher = createCipheriv('id-aes256-wrap-pad', kek, KWP_IV);
  return Buffer.concat([cipher.update(keyBytes), cipher.final()]);
}

/**
 * Unwraps an RFC 5649 blob. The length is validated before the crypto API sees it (Node would
 * "unwrap" an empty input to an empty key); a failed integrity check is `CIPHERTEXT_TAMPERED`.
 *
 * @example
 * ```ts
 * const dek = kwpUnwrap(kek.exposeSecretBytes(), wrapped, 32);
 * ```
 */
export function kwpUnwrap(kek: Buffer, wrapped: Uint8Array, expectedLength?: number): SecretKey {
  checkWrappingKey(kek);
  // Precondition: a wrapped key is a multiple of 8 bytes and at least 16 bytes.
  if (wrapped.length < 16 || wrapped.length % 8 !== 0) {
    throw new KeystrataError('CIPHERTEXT_MALFORMED', `A wrapped key must be a multiple of 8 bytes, at least 16 (got ${wrapped.length}).`, {
      hint: 'The key store holds a damaged, edited or foreign wrapped key (this is not about a stored value): restore the key store from a trusted backup and check the audit trail. Nothing was decrypted with it.',
    });
  }
  if (expectedLength !== undefined && wrapped.length !== 8 * Math.ceil(expectedLength / 8) + 8) {
    throw new KeystrataError('CIPHERTEXT_MALFORMED', `A wrapped ${expectedLength}-byte key must be ${8 * Math.ceil(expectedLength / 8) + 8} bytes.`, {
      hint: 'The key store holds a damaged, edited or foreign wrapped key (this is not about a stored value): restore the key store from a trusted backup and check the audit trail. Nothing was decrypted with it.',
    });
  }
  let out: Buffer;
  // Every intermediate copy of the unwrapped bytes is zero-filled, not only the one handed out.
  let head: Buffer | undefined;
  let tail: Buffer | undefined;
  try {
    const decipher = createDecipheriv('id-aes256-wrap-pad', kek, KWP_IV);
    head = decipher.update(wrapped);
    tail = decipher.final();
    out = Buffer.concat([head, tail]);
  } catch {
    throw new KeystrataError('CIPHERTEXT_TAMPERED', 'The wrapped key failed its integrity check.', {
      hint: 'The key store holds a damaged, edited or foreign wrapped key (this is not about a stored value): restore the key store from a trusted backup and check the audit trail. Nothing was decrypted with it.',
    });
  } finally {
    head?.fill(0);
    tail?.fill(0);
  }
  if (out.length === 0 || (expectedLength !== undefined && out.length !== expectedLength)) {
    out.fill(0);
    throw new KeystrataError('CIPHERTEXT_TAMPERED', 'The wrapped key has the wrong length.', {
      hint: 'The key store holds a damaged, edited or foreign wrapped key (this is not about a stored value): restore the key store from a trusted backup and check the audit trail. Nothing was decrypted with it.',
    });
  }
  return SecretKey.takeOwnership(out);
}
