import { randomBytes } from 'node:crypto';
import { GCM } from '../crypto/aes-gcm.js';
import type { NativeAeadKey, NativeAeadModule } from '../crypto/native-aead.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { SecretKey } from '../secret/secret-key.js';
import { aadCapacity, flagsFor, writeAadAt } from './aad.js';
import { BatchBytes } from './batch-bytes.js';
import { writeStringPlaintext } from './batch-text.js';
import { base64url } from './buffer-direct.js';
import { DEK_ID_LENGTH, ENVELOPE_PREFIX, ENVELOPE_VERSION, HEADER_LENGTH } from './envelope-format.js';
import type { FieldContext } from './field-context.js';
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
/** Past this size the shared chunk buffer is dropped after use rather than kept for the next chunk. */
const KEPT_CHUNK_BYTES = 1 << 20;

/** Yields to the event loop between chunks of a big batch. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The addon's handle for a DEK, created once and kept beside its bytes (released when the key is destroyed). */
export function nativeKeyOf(aead: NativeAeadModule, key: SecretKey): NativeAeadKey {
  return key.nativeHandle((bytes) => new aead.AeadKey(bytes));
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
    const at = input.reserve(1 + 3 * value.length);
    input.truncate(at + writeStringPlaintext(input.bytes, at, value));
    return at;
  }
  const plaintext = writeFieldValue(value);
  try {
    return input.append(plaintext);
  } finally {
    plaintext.fill(0);
  }
}

/**
 * The one buffer every native seal chunk is packed in (a chunk is packed, sealed and encoded in
 * one synchronous call, then wiped): no allocation per chunk. Living as long as the module, it
 * also keeps BatchBytes' hidden class alive, so a full GC never deoptimizes the hot loops.
 */
let shared = new BatchBytes(BATCH_VALUES * 192);

/**
 * Each key slot's DEK id bytes, checked once per batch. (The hot loops below take plain arrays and
 * typed arrays only: an object shape made per batch dies with the batch, and V8 then deoptimizes
 * the code compiled against it at the next full GC.)
 */
function idBytes(keys: readonly SealKey[]): Buffer[] {
  return keys.map(({ dekId }) => {
    const id = Buffer.alloc(DEK_ID_LENGTH);
    // The same check as sealValue makes, before anything is packed.
    if (typeof dekId !== 'string' || dekId.length !== 2 * DEK_ID_LENGTH || id.write(dekId, 'hex') !== DEK_ID_LENGTH) {
      throw new KeystrataError('CONFIG_INVALID', 'A DEK id is 32 hex characters.');
    }
    return id;
  });
}

/**
 * Packs one value in place: header, IV, then its plaintext where the ciphertext goes (sealed in
 * place), then its AAD. Fills its table row; returns the body's offset.
 */
function packValue(batch: BatchBytes, value: FieldValue, context: FieldContext, id: Buffer, ivs: Buffer, ivAt: number, table: Uint32Array, row: number): number {
  let bodyAt: number;
  let plaintextLength: number;
  if (typeof value === 'string') {
    bodyAt = batch.reserve(IV_END + 1 + 3 * value.length + GCM.tagLength);
    plaintextLength = writeStringPlaintext(batch.bytes, bodyAt + IV_END, value);
  } else {
    const plaintext = writeFieldValue(value);
    try {
      plaintextLength = plaintext.length;
      bodyAt = batch.reserve(IV_END + plaintextLength + GCM.tagLength);
      batch.bytes.set(plaintext, bodyAt + IV_END);
    } finally {
      plaintext.fill(0);
    }
  }
  batch.truncate(bodyAt + IV_END + plaintextLength + GCM.tagLength);
  const aadAt = batch.reserve(aadCapacity(context));
  const bytes = batch.bytes;
  bytes[bodyAt] = ENVELOPE_VERSION;
  bytes[bodyAt + 1] = flagsFor(context);
  bytes.set(id, bodyAt + 2);
  for (let k = 0; k < GCM.ivLength; k++) bytes[bodyAt + HEADER_LENGTH + k] = ivs[ivAt + k]!;
  const aadLength = writeAadAt(bytes, aadAt, bytes, bodyAt, context);
  batch.truncate(aadAt + aadLength);
  table[row + 1] = bodyAt + HEADER_LENGTH;
  table[row + 2] = bodyAt + IV_END;
  table[row + 3] = plaintextLength;
  table[row + 4] = aadAt;
  table[row + 5] = aadLength;
  table[row + 6] = bodyAt + IV_END;
  return bodyAt;
}

/** The per-batch state of {@link sealChunk}: each slot's key, id bytes, and handle index in the current chunk. */
type SlotColumns = readonly [keys: readonly SecretKey[], ids: readonly Buffer[], chunkOf: Int32Array, indexIn: Int32Array];

function sealChunk(
  aead: NativeAeadModule,
  jobs: readonly SealJob[],
  slots: Int32Array,
  [keys, ids, chunkOf, indexIn]: SlotColumns,
  chunk: number,
  start: number,
  end: number,
  ivs: Buffer,
  out: string[],
): void {
  const stride = aead.SEAL_STRIDE;
  const table = new Uint32Array((end - start) * stride);
  const bodies = new Uint32Array(end - start);
  const handles: NativeAeadKey[] = [];
  const batch = shared;
  batch.truncate(0);
  try {
    for (let i = start; i < end; i++) {
      const job = jobs[i]!;
      const slot = slots[i]!;
      if (chunkOf[slot] !== chunk) {
        chunkOf[slot] = chunk;
        indexIn[slot] = handles.push(nativeKeyOf(aead, keys[slot]!)) - 1;
      }
      const row = (i - start) * stride;
      table[row] = indexIn[slot]!;
      bodies[i - start] = packValue(batch, job.value, job.context, ids[slot]!, ivs, GCM.ivLength * i, table, row);
    }
    // In place: each plaintext is overwritten by its ciphertext (or zero-filled if sealing it failed).
    if (aead.sealBatch(handles, table, batch.bytes, batch.bytes, new Uint8Array(end - start)) !== 0) {
      throw new KeystrataError('PLAINTEXT_REJECTED', 'The native AES-GCM failed to seal a value.', {
        hint: 'This is an internal error, not a problem with the value: set KEYSTRATA_AEAD=node to use node:crypto, and report it.',
      });
    }
    const bytes = batch.bytes;
    for (let i = start; i < end; i++) {
      const row = (i - start) * stride;
      out[i] = ENVELOPE_PREFIX + base64url(bytes, bodies[i - start]!, table[row + 6]! + table[row + 3]! + GCM.tagLength);
    }
  } finally {
    batch.wipe();
    if (batch.bytes.length > KEPT_CHUNK_BYTES) shared = new BatchBytes(BATCH_VALUES * 192);
  }
}

/**
 * Seals a batch into `ks1` envelopes, job i under `keys[slots[i]]`: through the native addon when
 * `aead` is given (one call per {@link BATCH_VALUES}, yielding to the event loop between calls),
 * else `sealValue` (node:crypto) per value. Same IVs, same text, byte for byte. Fails as a whole.
 *
 * @example
 * ```ts
 * const texts = await sealSlots(aead, items, new Int32Array(items.length), [{ key: dekKey, dekId }]);
 * ```
 */
export async function sealSlots(
  aead: NativeAeadModule | undefined,
  jobs: readonly SealJob[],
  slots: Int32Array,
  keys: readonly SealKey[],
  ivs: Buffer = randomBytes(GCM.ivLength * jobs.length),
): Promise<string[]> {
  const out = new Array<string>(jobs.length);
  const ids = idBytes(keys);
  if (aead === undefined) {
    for (let i = 0; i < jobs.length; i++) {
      const { value, context } = jobs[i]!;
      const dek = keys[slots[i]!]!;
      out[i] = sealValue(dek.key.exposeSecretBytes(), dek.dekId, ivs.subarray(GCM.ivLength * i, GCM.ivLength * (i + 1)), value, context);
    }
    return out;
  }
  const columns: SlotColumns = [keys.map((dek) => dek.key), ids, new Int32Array(keys.length).fill(-1), new Int32Array(keys.length)];
  for (let start = 0, chunk = 0; start < jobs.length; start += BATCH_VALUES, chunk++) {
    if (start > 0) await nextTurn();
    sealChunk(aead, jobs, slots, columns, chunk, start, Math.min(jobs.length, start + BATCH_VALUES), ivs, out);
  }
  return out;
}

/**
 * {@link sealSlots} with each job's DEK given by `keyOf(context)` (asked once per job, before
 * anything is sealed).
 *
 * @example
 * ```ts
 * const texts = await sealJobs(aead, items, (context) => ({ key: dekKey, dekId }));
 * ```
 */
export function sealJobs(aead: NativeAeadModule | undefined, jobs: readonly SealJob[], keyOf: (context: FieldContext) => SealKey, ivs?: Buffer): Promise<string[]> {
  const slots = new Int32Array(jobs.length);
  const keys: SealKey[] = [];
  const slotOf = new Map<SecretKey, number>();
  for (let i = 0; i < jobs.length; i++) {
    const dek = keyOf(jobs[i]!.context);
    let slot = slotOf.get(dek.key);
    if (slot === undefined) slotOf.set(dek.key, (slot = keys.push(dek) - 1));
    slots[i] = slot;
  }
  return sealSlots(aead, jobs, slots, keys, ivs);
}
