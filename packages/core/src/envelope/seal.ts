import { gcmOpen, gcmSeal } from '../crypto/aes-gcm.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { buildAad, flagsFor } from './aad.js';
import { decodeEnvelope, encodeEnvelope, encodeHeader, FLAG_RECORD_BOUND, type Envelope } from './envelope-format.js';
import type { FieldContext } from './field-context.js';

/**
 * Encrypts plaintext into a text envelope bound to `context`. Pure: key and IV come from the caller.
 *
 * @example
 * ```ts
 * const text = sealEnvelope(dekBytes, dekId, randomBytes(12), Buffer.from('123-45-6789'), context);
 * ```
 */
export function sealEnvelope(key: Buffer, dekId: string, iv: Uint8Array, plaintext: Uint8Array, context: FieldContext): string {
  const header = encodeHeader(dekId, flagsFor(context));
  const { ciphertext, tag } = gcmSeal(key, iv, plaintext, buildAad(header, context));
  return encodeEnvelope(header, iv, ciphertext, tag);
}

/**
 * Decrypts a parsed envelope; the tag is checked before any plaintext exists.
 *
 * @example
 * ```ts
 * const plaintext = openEnvelope(dekBytes, decodeEnvelope(text), context);
 * ```
 */
export function openEnvelope(key: Buffer, envelope: Envelope, context: FieldContext): Buffer {
  // Precondition: a record-bound value is only opened with the record id it was bound to.
  if ((envelope.flags & FLAG_RECORD_BOUND) !== 0 && (context.recordId === undefined || context.recordId === '')) {
    throw new KeystrataError('CIPHERTEXT_TAMPERED', 'The value is bound to a record, but no record id was supplied to decrypt it.');
  }
  return gcmOpen(key, envelope.iv, envelope.ciphertext, envelope.tag, buildAad(envelope.header, context));
}

export { decodeEnvelope };
