import { KeystrataError } from '../errors/keystrata-error.js';
import { GCM } from '../crypto/aes-gcm.js';
import { writeBase64url } from './buffer-direct.js';
import { bodyScratch, type Scratch } from './scratch.js';

/**
 * Text prefix of every version-1 envelope.
 *
 * @example
 * ```ts
 * import { ENVELOPE_PREFIX } from '@keystrata/core/adapter';
 * const looksEncrypted = (value: string) => value.startsWith(ENVELOPE_PREFIX);
 * ```
 */
export const ENVELOPE_PREFIX = 'ks1.';
/**
 * Binary format version carried in the first header byte.
 *
 * @example
 * ```ts
 * import { decodeEnvelope, ENVELOPE_VERSION } from '@keystrata/core/adapter';
 * if (decodeEnvelope(stored).header[0] !== ENVELOPE_VERSION) throw new Error('written by a newer Keystrata');
 * ```
 */
export const ENVELOPE_VERSION = 1;
/** Header flag: the record id is bound into the AAD. */
export const FLAG_RECORD_BOUND = 0x01;
/** Length of a DEK identifier in bytes. */
export const DEK_ID_LENGTH = 16;
/** version (1) + flags (1) + DEK id (16). */
export const HEADER_LENGTH = 2 + DEK_ID_LENGTH;
/** The shortest valid body: header, IV, empty ciphertext, tag. */
const MIN_BODY = HEADER_LENGTH + GCM.ivLength + GCM.tagLength;
const KNOWN_FLAGS = FLAG_RECORD_BOUND;
/** Value of each base64url character (-1 for anything else). */
const BASE64URL_VALUE = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) BASE64URL_VALUE[c.charCodeAt(0)] = i;

/**
 * Whether `encoded` is canonical unpadded base64url decoding to exactly `decoded` bytes: Node's
 * decoder skips characters outside the alphabet (so a skipped one shortens the output), also
 * accepts `+`, `/` and `=`, ignores set bits in the last character's unused low bits, and reads a
 * character above U+00FF by its low byte (so `Ł`, U+0141, decodes as `A`). The UTF-8 length
 * equals the UTF-16 length only when every character is ASCII, which rules that last one out for
 * the cost of one native length count.
 */
function canonical(encoded: string, decoded: number): boolean {
  const rest = encoded.length % 4;
  if (rest === 1 || decoded !== (encoded.length >> 2) * 3 + (rest === 0 ? 0 : rest - 1)) return false;
  if (Buffer.byteLength(encoded, 'utf8') !== encoded.length) return false;
  if (encoded.includes('+') || encoded.includes('/') || encoded.includes('=')) return false;
  if (rest === 0) return true;
  const last = BASE64URL_VALUE[encoded.charCodeAt(encoded.length - 1)] ?? -1;
  return last >= 0 && (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/**
 * A parsed envelope: views into one decoded Buffer.
 *
 * @example
 * ```ts
 * import { decodeEnvelope, type Envelope } from '@keystrata/core/adapter';
 * const envelope: Envelope = decodeEnvelope(row.ssn); // CIPHERTEXT_MALFORMED for anything but a ks1 value
 * console.log(envelope.dekId, envelope.iv.length, envelope.tag.length); // 32 hex characters, 12, 16
 * ```
 */
export interface Envelope {
  readonly header: Buffer;
  readonly flags: number;
  readonly dekId: string;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/**
 * Builds the 18-byte header: version, flags, DEK id.
 *
 * @example
 * ```ts
 * const header = encodeHeader(dekIdHex, FLAG_RECORD_BOUND);
 * ```
 */
export function encodeHeader(dekId: string, flags: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_LENGTH);
  header[0] = ENVELOPE_VERSION;
  header[1] = flags;
  if (header.write(dekId, 2, 'hex') !== DEK_ID_LENGTH) {
    throw new KeystrataError('CONFIG_INVALID', 'A DEK id is 32 hex characters.');
  }
  return header;
}

/**
 * Serialises an envelope: `ks1.` + base64url(header ‖ iv ‖ ciphertext ‖ tag). See docs/format.md.
 *
 * @example
 * ```ts
 * const text = encodeEnvelope(header, iv, ciphertext, tag); // "ks1.AQGq…"
 * ```
 */
export function encodeEnvelope(header: Buffer, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): string {
  return ENVELOPE_PREFIX + Buffer.concat([header, iv, ciphertext, tag]).toString('base64url');
}

/**
 * Validates an envelope and decodes its binary body into `into` (or a new buffer when it does not
 * fit), rejecting anything that is not exactly a version-1 value: wrong prefix, non-canonical
 * base64url, short body, unknown version or flags. Returns the body length; the body is at offset 0
 * of `into.current`. The allocation-free core of {@link decodeEnvelope}.
 *
 * @example
 * ```ts
 * const length = decodeEnvelopeBody(text, bodyScratch);
 * const dekId = bodyScratch.current.toString('hex', 2, HEADER_LENGTH);
 * ```
 */
export function decodeEnvelopeBody(text: unknown, into: Scratch): number {
  return decodeEnvelopeBodyInto(text, into.take(envelopeBodyCapacity(text)), 0);
}

/**
 * Bytes {@link decodeEnvelopeBodyInto} may write for `text` (an upper bound; 0 for a non-string).
 *
 * @example
 * ```ts
 * const at = batch.reserve(envelopeBodyCapacity(text));
 * ```
 */
export function envelopeBodyCapacity(text: unknown): number {
  return typeof text === 'string' ? ((text.length - ENVELOPE_PREFIX.length) >> 2) * 3 + 3 : 0;
}

/**
 * {@link decodeEnvelopeBody} into `target` at offset `at` (which has
 * {@link envelopeBodyCapacity} bytes free there), for batches: same checks, same errors.
 *
 * @example
 * ```ts
 * const length = decodeEnvelopeBodyInto(text, input, at);
 * ```
 */
export function decodeEnvelopeBodyInto(text: unknown, target: Buffer, at: number): number {
  // Precondition: the value is a string starting with the version-1 prefix.
  if (typeof text !== 'string' || !text.startsWith(ENVELOPE_PREFIX)) {
    throw new KeystrataError('CIPHERTEXT_MALFORMED', 'The value is not a Keystrata envelope (expected the "ks1." prefix).');
  }
  const encoded = text.slice(ENVELOPE_PREFIX.length);
  const length = writeBase64url(target, at, encoded);
  // Precondition: the body is canonical base64url (Node's decoder skips invalid characters).
  if (!canonical(encoded, length)) {
    throw new KeystrataError('CIPHERTEXT_MALFORMED', 'The envelope body is not canonical base64url.');
  }
  if (length < MIN_BODY) {
    throw new KeystrataError('CIPHERTEXT_MALFORMED', `The envelope is truncated (${length} bytes).`);
  }
  if (target[at] !== ENVELOPE_VERSION) {
    throw new KeystrataError('CIPHERTEXT_MALFORMED', `Unknown envelope version ${target[at]}.`);
  }
  if ((target[at + 1]! & ~KNOWN_FLAGS) !== 0) throw new KeystrataError('CIPHERTEXT_MALFORMED', 'Unknown envelope flags.');
  return length;
}

/**
 * Parses an envelope, rejecting anything that is not exactly a version-1 value (see
 * {@link decodeEnvelopeBody}). Never returns the input as plaintext.
 *
 * @example
 * ```ts
 * const { dekId, iv, ciphertext, tag, header } = decodeEnvelope(value);
 * ```
 */
export function decodeEnvelope(text: unknown): Envelope {
  const length = decodeEnvelopeBody(text, bodyScratch);
  const body = Buffer.from(bodyScratch.current.subarray(0, length));
  const ivEnd = HEADER_LENGTH + GCM.ivLength;
  return {
    header: body.subarray(0, HEADER_LENGTH),
    flags: body[1]!,
    dekId: body.toString('hex', 2, HEADER_LENGTH),
    iv: body.subarray(HEADER_LENGTH, ivEnd),
    ciphertext: body.subarray(ivEnd, body.length - GCM.tagLength),
    tag: body.subarray(body.length - GCM.tagLength),
  };
}

/**
 * Reads only the DEK id of an envelope (for batching key lookups), validating the whole value.
 *
 * @example
 * ```ts
 * const ids = new Set(values.map(envelopeDekId));
 * ```
 */
export function envelopeDekId(text: unknown): string {
  decodeEnvelopeBody(text, bodyScratch);
  return bodyScratch.current.toString('hex', 2, HEADER_LENGTH);
}

/**
 * Whether a value looks like a Keystrata envelope (prefix only; use for routing, not trust).
 *
 * @example
 * ```ts
 * if (!isEnvelope(row.ssn)) throw new Error('plaintext in an encrypted column');
 * ```
 */
export function isEnvelope(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(ENVELOPE_PREFIX);
}
