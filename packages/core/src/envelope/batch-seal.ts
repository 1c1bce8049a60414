import { randomBytes } from 'node:crypto';
import { GCM } from '../crypto/aes-gcm.js';
import type { NativeAeadKey, NativeAeadModule } from '../crypto/native-aead.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { SecretKey } from '../secret/secret-key.js';
import { aadCapacity, flagsFor, writeAadAt } from './aad.js';
import { BatchBytes } from './batch-bytes.js';
import { DEK_ID_LENGTH, ENVELOPE_PREFIX, ENVELOPE_VERSION, HEADER_LENGTH } from './envelope-format.js';
import type { FieldContext } from './field-context.js';
import { sealValue } from './seal.js';
import { type FieldValue, wellFormed, writeFieldValue } from './value-codec.js';

/** A value to seal and the DEK to seal it with. */
export interface SealJob {
  readonly value: FieldValue;
  readonly context: FieldContext;
}

/** The DEK a job is sealed with. */
export interface SealKey {
  readonly key: SecretKey;
  readonly dekId: string;
}

/** Values per native call: bounds how long one call holds the event loop (about 0.3 ms at 40 bytes). */
export const BATCH_VALUES = 1024;
const IV_END = HEADER_LENGTH + GCM.ivLength;
/** The type byte of a string plaintext (docs/format.md). */
const STRING_TAG = 0x73;

/** Yields to the event loop between chunks of a big batch. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The addon's handle for a DEK, created once and kept beside its bytes (released when the key is destroyed). */
export function nativeKeyOf(aead: NativeAeadModule, key: SecretKey): NativeAeadKey {
  return key.nativeHandle((bytes) => new aead.AeadKey(bytes));
}

/** A DEK as one chunk uses it: its index in the chunk's handle list and its id bytes. */
interface ChunkKey {
  readonly index: number;
  readonly id: Buffer;
}

/**
 * Writes the typed plaintext of `value` (as `writeFieldValue`) at the end of `input`, strings
 * straight in without a scratch copy; returns its offset.
 *
 * @example
 * ```ts
 * const at = appendPlaintext(input, 'ada@example.com');
 * ```
 */
export function appendPlaintext(input: BatchBytes, value: FieldValue): number {
  if (typeof value === 'string') {
    wellFormed(value);
    const at = input.reserve(1 + 3 * value.length);
    input.bytes[at] = STRING_TAG;
    input.truncate(at + 1 + input.bytes.write(value, at + 1, 'utf8'));
    return at;
  }
  const plaintext = writeFieldValue(value);
  try {
    return input.append(plaintext);
  } finally {
    plaintext.fill(0);
  }
}

function sealChunk(aead: NativeAeadModule, jobs: readonly SealJob[], start: number, end: number, keyOf: (context: FieldContext) => SealKey, ivs: Buffer, out: string[]): void {
  const count = end - start;
  const stride = aead.SEAL_STRIDE;
  const table = new Uint32Array(count * stride);
  const handles: NativeAeadKey[] = [];
  const chunkKeys = new Map<SecretKey, ChunkKey>();
  const input = new BatchBytes(count * 128);
  const bodies = new BatchBytes(count * 128);
  try {
    for (let i = start; i < end; i++) {
      const { value, context } = jobs[i]!;
      const dek = keyOf(context);
      let chunkKey = chunkKeys.get(dek.key);
      if (chunkKey === undefined) {
        // The same check as sealValue makes, before anything is packed.
        const id = Buffer.from(dek.dekId, 'hex');
        if (dek.dekId.length !== 2 * DEK_ID_LENGTH || id.length !== DEK_ID_LENGTH) throw new KeystrataError('CONFIG_INVALID', 'A DEK id is 32 hex characters.');
        chunkKeys.set(dek.key, (chunkKey = { index: handles.push(nativeKeyOf(aead, dek.key)) - 1, id }));
      }
      const plaintextAt = appendPlaintext(input, value);
      const plaintextLength = input.length - plaintextAt;
      const bodyAt = bodies.reserve(IV_END + plaintextLength + GCM.tagLength);
      const body = bodies.bytes;
      body[bodyAt] = ENVELOPE_VERSION;
      body[bodyAt + 1] = flagsFor(context);
      for (let k = 0; k < DEK_ID_LENGTH; k++) body[bodyAt + 2 + k] = chunkKey.id[k]!;
      const ivAt = input.reserve(GCM.ivLength);
      for (let k = 0; k < GCM.ivLength; k++) body[bodyAt + HEADER_LENGTH + k] = input.bytes[ivAt + k] = ivs[GCM.ivLength * i + k]!;
      const aadAt = input.reserve(aadCapacity(context));
      const aadLength = writeAadAt(input.bytes, aadAt, body, bodyAt, context);
      input.truncate(aadAt + aadLength);
      const row = (i - start) * stride;
      table[row] = chunkKey.index;
      table[row + 1] = ivAt;
      table[row + 2] = plaintextAt;
      table[row + 3] = plaintextLength;
      table[row + 4] = aadAt;
      table[row + 5] = aadLength;
      table[row + 6] = bodyAt + IV_END;
    }
    const status = new Uint8Array(count);
    if (aead.sealBatch(handles, table, input.bytes, bodies.bytes, status) !== 0) {
      throw new KeystrataError('PLAINTEXT_REJECTED', 'The native AES-GCM failed to seal a value.', {
        hint: 'This is an internal error, not a problem with the value: set KEYSTRATA_AEAD=node to use node:crypto, and report it.',
      });
    }
    for (let i = start; i < end; i++) {
      const row = (i - start) * stride;
      out[i] = ENVELOPE_PREFIX + bodies.bytes.toString('base64url', table[row + 6]! - IV_END, table[row + 6]! + table[row + 3]! + GCM.tagLength);
    }
  } finally {
    input.wipe();
  }
}

/**
 * Seals a batch of values into `ks1` envelopes: through the native addon when `aead` is given (one
 * call per {@link BATCH_VALUES}, yielding to the event loop between calls), else `sealValue`
 * (node:crypto) per value. Same IVs, same text, byte for byte. Fails as a whole.
 *
 * @example
 * ```ts
 * const texts = await sealJobs(aead, items, (context) => ({ key: dekKey, dekId }));
 * ```
 */
export async function sealJobs(
  aead: NativeAeadModule | undefined,
  jobs: readonly SealJob[],
  keyOf: (context: FieldContext) => SealKey,
  ivs = randomBytes(GCM.ivLength * jobs.length),
): Promise<string[]> {
  const out = new Array<string>(jobs.length);
  if (aead === undefined) {
    for (let i = 0; i < jobs.length; i++) {
      const { value, context } = jobs[i]!;
      const dek = keyOf(context);
      out[i] = sealValue(dek.key.exposeSecretBytes(), dek.dekId, ivs.subarray(GCM.ivLength * i, GCM.ivLength * (i + 1)), value, context);
    }
    return out;
  }
  for (let start = 0; start < jobs.length; start += BATCH_VALUES) {
    if (start > 0) await nextTurn();
    sealChunk(aead, jobs, start, Math.min(jobs.length, start + BATCH_VALUES), keyOf, ivs, out);
  }
  return out;
}
