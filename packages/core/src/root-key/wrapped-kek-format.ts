import { KeystrataError } from '../errors/keystrata-error.js';

/** `CKM_AES_KEY_WRAP`: RFC 3394, no padding. Byte-identical on every module for a 32-byte key (40 bytes). */
export const CKM_AES_KEY_WRAP = 0x2109;
/** `CKM_AES_KEY_WRAP_PAD`: RFC 5649 on SoftHSM2 (40 bytes), RFC 3394 + PKCS#7 padding on NSS softoken (48 bytes). */
export const CKM_AES_KEY_WRAP_PAD = 0x210a;

/** The first bytes of a self-describing wrapped KEK: `kw` and format version 1. */
const MAGIC = Buffer.from([0x6b, 0x77, 0x01]);
/** Magic (3 bytes) then the mechanism as a 4-byte big-endian CKM_ value. */
const WRAPPED_KEK_HEADER_LENGTH = 7;
/** A legacy wrapped KEK: the bare 40 bytes of RFC 5649 (`CKM_AES_KEY_WRAP_PAD` on SoftHSM2), no header. */
const LEGACY_WRAPPED_KEK_LENGTH = 40;

/**
 * The lengths of the module's bytes each mechanism promises for a 32-byte KEK. RFC 3394 adds one
 * 8-byte block; `CKM_AES_KEY_WRAP_PAD` is RFC 5649 (40) on most modules and RFC 3394 over a
 * PKCS#7-padded key (48) on NSS softoken. Nothing else is ever sent to the HSM.
 */
const LENGTHS: ReadonlyMap<number, readonly number[]> = new Map([
  [CKM_AES_KEY_WRAP, [40]],
  [CKM_AES_KEY_WRAP_PAD, [40, 48]],
]);

/** A wrapped KEK split into the mechanism that wrapped it and the module's bytes. */
export interface ParsedWrappedKek {
  /** The CKM_ value to unwrap with. */
  readonly mechanism: number;
  /** What the module returned from C_WrapKey. */
  readonly body: Buffer;
  /** True for a bare 40-byte blob written before wrapped KEKs named their mechanism. */
  readonly legacy: boolean;
}

const hex = (mechanism: number): string => `0x${mechanism.toString(16).padStart(4, '0')}`;

/** A short name of a wrap mechanism for messages and status, e.g. `CKM_AES_KEY_WRAP (0x2109)`. */
export function wrapMechanismName(mechanism: number): string {
  if (mechanism === CKM_AES_KEY_WRAP) return `CKM_AES_KEY_WRAP (${hex(mechanism)})`;
  if (mechanism === CKM_AES_KEY_WRAP_PAD) return `CKM_AES_KEY_WRAP_PAD (${hex(mechanism)})`;
  return hex(mechanism);
}

/** A refusal before any HSM call; `details.length` (the whole blob's) marks it as one for callers. */
function tampered(message: string, details: { readonly length: number } & Record<string, string | number>): KeystrataError {
  return new KeystrataError('CIPHERTEXT_TAMPERED', `The wrapped KEK ${message}: its key-store entry was truncated, edited or replaced; it was not sent to the HSM.`, {
    details,
    hint: 'The key store holds a damaged, edited or foreign wrapped key (this is not about a stored value): restore the key store from a trusted backup and check the audit trail. Nothing was decrypted with it.',
  });
}

/**
 * Splits a stored wrapped KEK into its mechanism and the module's bytes, refusing with
 * `CIPHERTEXT_TAMPERED` (before any HSM call) what the format does not explain: a bare blob that is
 * not 40 bytes, an unknown version or mechanism, or a length the mechanism does not promise.
 *
 * @example
 * ```ts
 * const { mechanism, body } = parseWrappedKek(Buffer.from(kek.wrapped, 'base64'));
 * ```
 */
export function parseWrappedKek(wrapped: Buffer): ParsedWrappedKek {
  if (!Buffer.isBuffer(wrapped)) throw tampered('is not bytes', { length: -1 });
  const length = wrapped.length;
  // Precondition: a wrapped KEK without the `kw` header is a legacy 40-byte RFC 5649 blob.
  if (wrapped.length === LEGACY_WRAPPED_KEK_LENGTH) return { mechanism: CKM_AES_KEY_WRAP_PAD, body: wrapped, legacy: true };
  if (wrapped.length < WRAPPED_KEK_HEADER_LENGTH || !wrapped.subarray(0, 2).equals(MAGIC.subarray(0, 2))) {
    throw tampered(`has the wrong length (${wrapped.length} bytes) and no format header`, { length: wrapped.length });
  }
  if (wrapped[2] !== MAGIC[2]) throw tampered(`names format version ${wrapped[2]}, which this version does not write`, { length, version: wrapped[2]! });
  const mechanism = wrapped.readUInt32BE(3);
  const body = wrapped.subarray(WRAPPED_KEK_HEADER_LENGTH);
  const lengths = LENGTHS.get(mechanism);
  if (lengths === undefined) throw tampered(`names an unknown wrap mechanism ${hex(mechanism)}`, { length, mechanism: hex(mechanism) });
  // Precondition: a wrapped KEK's body has a length its mechanism promises for a 32-byte key.
  if (!lengths.includes(body.length)) {
    throw tampered(`has ${body.length} bytes under ${wrapMechanismName(mechanism)}, which wraps a 32-byte key to ${lengths.join(' or ')}`, { length, mechanism: hex(mechanism) });
  }
  return { mechanism, body, legacy: false };
}

/**
 * The stored form of a KEK the module wrapped with `mechanism`: `kw`, version 1, the mechanism
 * (4 bytes big-endian), then the module's bytes. Refuses a length the mechanism does not promise.
 *
 * @example
 * ```ts
 * const stored = encodeWrappedKek(CKM_AES_KEY_WRAP, await hsm.wrapKey(session, { mechanism: CKM_AES_KEY_WRAP }, cmk, kek));
 * ```
 */
export function encodeWrappedKek(mechanism: number, body: Buffer): Buffer {
  const header = Buffer.alloc(WRAPPED_KEK_HEADER_LENGTH);
  MAGIC.copy(header);
  header.writeUInt32BE(mechanism, 3);
  const encoded = Buffer.concat([header, body]);
  const lengths = LENGTHS.get(mechanism) ?? [];
  if (!lengths.includes(body.length)) {
    throw new KeystrataError(
      'HSM_MODULE_INCOMPATIBLE',
      `The module wrapped a 32-byte KEK with ${wrapMechanismName(mechanism)} to ${body.length} bytes, which no known implementation returns; it was not stored.`,
      {
        details: { length: body.length, mechanism: hex(mechanism) },
      },
    );
  }
  return encoded;
}
