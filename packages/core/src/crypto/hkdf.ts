import { hkdfSync } from 'node:crypto';
import { KeystrataError } from '../errors/keystrata-error.js';

/** Largest output HKDF-SHA256 can produce (RFC 5869: 255 × hash length). */
const HKDF_SHA256_MAX = 255 * 32;

/**
 * HKDF-SHA256 (RFC 5869) into a fresh Buffer the caller owns and must zero-fill.
 *
 * @example
 * ```ts
 * const fieldKey = hkdfSha256(indexKey, Buffer.alloc(0), Buffer.from('keystrata/blind-index/v1'), 32);
 * ```
 */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Buffer {
  // Precondition: 1 ≤ length ≤ 8160 bytes.
  if (!Number.isInteger(length) || length < 1 || length > HKDF_SHA256_MAX) {
    throw new KeystrataError('CONFIG_INVALID', `HKDF-SHA256 output length must be 1..${HKDF_SHA256_MAX} bytes.`);
  }
  if (info.length > 1024) throw new KeystrataError('CONFIG_INVALID', 'HKDF info must be at most 1024 bytes.');
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}
