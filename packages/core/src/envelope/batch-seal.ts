import { randomBytes } from 'node:crypto';
import { GCM } from '../crypto/aes-gcm.js';
import type { NativeAeadKey, NativeAeadModule } from '../crypto/native-aead.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { SecretKey } from '../secret/secret-key.js';
import { writeAad, flagsFor } from './aad.js';
import { BatchBytes } from './batch-bytes.js';
import { DEK_ID_LENGTH, ENVELOPE_PREFIX, ENVELOPE_VERSION, HEADER_LENGTH } from './envelope-format.js';
import type { FieldContext } from './field-context.js';
import { aadScratch } from './scratch.js';
import { sealValue } from './seal.js';
import { type FieldValue, writeFieldValue } from './value-codec.js';

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

/** Yields to the event loop between chunks of a big batch. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The addon's handle for a DEK, created once and kept beside its bytes (released when the key is destroyed). */
export function nativeKeyOf(aead: NativeAeadModule, key: SecretKey): NativeAeadKey {
  return key.nativeHandle((bytes) => new aead.AeadKey(bytes));
}

function sealChunk(aead: NativeAeadModule, jobs: readonly SealJob[], start: number, end: number, keyOf: (context: FieldContext) => SealKey, ivs: Buffer, out: string[]): void {
  const count = end - start;
  const table = new Uint32Array(count * aead.SEAL_STRIDE);
  const handles: NativeAeadKey[] = [];
  const handleIndexes = new Map<SecretKey, number>();
  const input = new BatchBytes(count * 96);
  const bodies = new BatchBytes(count * 128);
  try {
    for (let i = start; i < end; i++) {
      const { value, context } = jobs[i]!;
      const dek = keyOf(context);
      // The same check as sealValue makes, before anything is packed.
      if (dek.dekId.length !== 2 * DEK_ID_LENGTH) throw new KeystrataError('CONFIG_INVALID', 'A DEK id is 32 hex characters.');
      let handle = handleIndexes.get(dek.key);
      if (handle === undefined) handleIndexes.set(dek.key, (handle = handles.push(nativeKeyOf(aead, dek.key)) - 1));
      const plaintext = writeFieldValue(value);
      let plaintextAt: number;
      try {
        plaintextAt = input.append(plaintext);
      } finally {
        plaintext.fill(0);
      }
      const bodyAt = bodies.reserve(IV_END + plaintext.length + GCM.tagLength);
      const body = bodies.bytes.subarray(bodyAt);
      body[0] = ENVELOPE_VERSION;
      body[1] = flagsFor(context);
      if (body.write(dek.dekId, 2, DEK_ID_LENGTH, 'hex') !== DEK_ID_LENGTH) throw new KeystrataError('CONFIG_INVALID', 'A DEK id is 32 hex characters.');
      ivs.copy(body, HEADER_LENGTH, GCM.ivLength * i, GCM.ivLength * (i + 1));
      const ivAt = input.append(body.subarray(HEADER_LENGTH, IV_END));
      const aadLength = writeAad(aadScratch, body, context);
      const aadAt = input.append(aadScratch.current.subarray(0, aadLength));
      table.set([handle, ivAt, plaintextAt, plaintext.length, aadAt, aadLength, bodyAt + IV_END], (i - start) * aead.SEAL_STRIDE);
    }
    const status = new Uint8Array(count);
    // `bodies` was reserved to its final size above, so its buffer no longer moves.
    if (aead.sealBatch(handles, table, input.bytes, bodies.bytes, status) !== 0) {
      throw new KeystrataError('PLAINTEXT_REJECTED', 'The native AES-GCM failed to seal a value.', {
        hint: 'This is an internal error, not a problem with the value: set KEYSTRATA_AEAD=node to use node:crypto, and report it.',
      });
    }
    for (let i = start; i < end; i++) {
      const row = (i - start) * aead.SEAL_STRIDE;
      const bodyAt = table[row + 6]! - IV_END;
      out[i] = ENVELOPE_PREFIX + bodies.bytes.toString('base64url', bodyAt, table[row + 6]! + table[row + 3]! + GCM.tagLength);
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
