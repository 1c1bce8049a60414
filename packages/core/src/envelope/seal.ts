import { gcmOpen, gcmSeal, GCM } from '../crypto/aes-gcm.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { buildAad, flagsFor, writeAad } from './aad.js';
import {
  decodeEnvelope,
  decodeEnvelopeBody,
  DEK_ID_LENGTH,
  encodeEnvelope,
  encodeHeader,
  ENVELOPE_PREFIX,
  ENVELOPE_VERSION,
  FLAG_RECORD_BOUND,
  HEADER_LENGTH,
  type Envelope,
} from './envelope-format.js';
import type { FieldContext } from './field-context.js';
import { aadScratch, bodyScratch } from './scratch.js';
import { type FieldValue, writeFieldValue } from './value-codec.js';

const IV_END = HEADER_LENGTH + GCM.ivLength;

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
 * Encodes and encrypts a field value into a text envelope: `encodeFieldValue` then
 * {@link sealEnvelope}, byte for byte, without intermediate buffers. The plaintext bytes are
 * zero-filled before it returns.
 *
 * @example
 * ```ts
 * const text = sealValue(dekBytes, dekId, randomBytes(12), '123-45-6789', context);
 * ```
 */
export function sealValue(key: Buffer, dekId: string, iv: Uint8Array, value: FieldValue, context: FieldContext): string {
  // Precondition: the DEK id is 32 hex characters.
  if (dekId.length !== 2 * DEK_ID_LENGTH) throw new KeystrataError('CONFIG_INVALID', 'A DEK id is 32 hex characters.');
  const plaintext = writeFieldValue(value);
  try {
    const length = IV_END + plaintext.length + GCM.tagLength;
    const body = bodyScratch.take(length);
    body[0] = ENVELOPE_VERSION;
    body[1] = flagsFor(context);
    if (body.write(dekId, 2, DEK_ID_LENGTH, 'hex') !== DEK_ID_LENGTH) throw new KeystrataError('CONFIG_INVALID', 'A DEK id is 32 hex characters.');
    body.set(iv, HEADER_LENGTH);
    const aadLength = writeAad(aadScratch, body, context);
    const { ciphertext, tag } = gcmSeal(key, iv, plaintext, aadScratch.current.subarray(0, aadLength));
    body.set(ciphertext, IV_END);
    body.set(tag, IV_END + ciphertext.length);
    return ENVELOPE_PREFIX + body.toString('base64url', 0, length);
  } finally {
    plaintext.fill(0);
  }
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
  checkRecordBinding(envelope.flags, context);
  return gcmOpen(key, envelope.iv, envelope.ciphertext, envelope.tag, buildAad(envelope.header, context));
}

/**
 * Parses and decrypts a text envelope in one step ({@link decodeEnvelope} then
 * {@link openEnvelope}) without intermediate buffers. Returns the plaintext bytes: zero-fill them
 * when done.
 *
 * @example
 * ```ts
 * const plaintext = openText(dekBytes, row.ssn, context);
 * ```
 */
export function openText(key: Buffer, text: unknown, context: FieldContext): Buffer {
  const length = decodeEnvelopeBody(text, bodyScratch);
  const body = bodyScratch.current;
  checkRecordBinding(body[1]!, context);
  const aadLength = writeAad(aadScratch, body, context);
  const tagStart = length - GCM.tagLength;
  return gcmOpen(key, body.subarray(HEADER_LENGTH, IV_END), body.subarray(IV_END, tagStart), body.subarray(tagStart, length), aadScratch.current.subarray(0, aadLength));
}

/**
 * Refuses to open a record-bound value without a record id (`CIPHERTEXT_TAMPERED`).
 *
 * @example
 * ```ts
 * checkRecordBinding(body[1], context);
 * ```
 */
export function checkRecordBinding(flags: number, context: FieldContext): void {
  // Precondition: a record-bound value is only opened with the record id it was bound to.
  if ((flags & FLAG_RECORD_BOUND) !== 0 && (context.recordId === undefined || context.recordId === '')) {
    throw new KeystrataError('CIPHERTEXT_TAMPERED', 'The value is bound to a record, but no record id was supplied to decrypt it.', {
      hint: 'Pass the record id (context.recordId) the value was written with; the value itself may be intact.',
    });
  }
}
