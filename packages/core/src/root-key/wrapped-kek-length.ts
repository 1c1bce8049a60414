import { KeystrataError } from '../errors/keystrata-error.js';

/** An RFC 5649 wrap of a 32-byte KEK is exactly 40 bytes. */
export const WRAPPED_KEK_LENGTH = 40;

/**
 * Refuses a wrapped KEK of the wrong length before the HSM sees it, with `CIPHERTEXT_TAMPERED`
 * (so the resolver audits it as `unwrap-failed`), as docs/format.md promises.
 *
 * @example
 * ```ts
 * assertWrappedKekLength(Buffer.from(kek.wrapped, 'base64'));
 * ```
 */
export function assertWrappedKekLength(wrapped: Buffer): void {
  const length = Buffer.isBuffer(wrapped) ? wrapped.length : -1;
  if (length !== WRAPPED_KEK_LENGTH) {
    throw new KeystrataError(
      'CIPHERTEXT_TAMPERED',
      `The wrapped KEK has the wrong length (${length} bytes, expected ${WRAPPED_KEK_LENGTH}): its key-store entry was truncated or replaced; it was not sent to the HSM.`,
      { details: { length } },
    );
  }
}
