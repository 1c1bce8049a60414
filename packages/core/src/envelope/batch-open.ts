import { GCM, gcmOpen } from '../crypto/aes-gcm.js';
import type { NativeAeadKey, NativeAeadModule } from '../crypto/native-aead.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { SecretKey } from '../secret/secret-key.js';
import { decodeBatch, type DecodedBatch, type OpenJob } from './batch-decode.js';
import { BATCH_VALUES, nativeKeyOf, nextTurn } from './batch-seal.js';
import { HEADER_LENGTH } from './envelope-format.js';
import { checkRecordBinding } from './seal.js';
import { decodeFieldValue, decodeFieldValueAt, type FieldValue } from './value-codec.js';

export type { OpenJob } from './batch-decode.js';

/** Receives each job's outcome: its value, or its typed error (one bad value fails only itself). */
export interface OpenSink {
  value(index: number, value: FieldValue): void;
  error(index: number, error: KeystrataError): void;
}

/**
 * Gives job `index`'s checked DEK (its DEK is `slot` in the batch's ids, `keys` is what the caller
 * passed along), or throws its typed error. Pass a module-level function and the per-batch data as
 * `keys`: a closure made per batch would be compiled into the hot loop and deoptimize it once the
 * batch is gone (at the next full GC).
 *
 * @example
 * ```ts
 * const keyOf: OpenKeyOf<SecretKey[]> = (index, slot, keys) => keys[slot];
 * ```
 */
export type OpenKeyOf<T> = (index: number, slot: number, keys: T) => SecretKey;

const IV_END = HEADER_LENGTH + GCM.ivLength;
const TAMPERED = 'The authentication tag did not verify.';

/** Per batch: each DEK slot's handle index in the current chunk. */
interface ChunkHandles {
  readonly chunkOf: Int32Array;
  readonly indexIn: Int32Array;
}

/** Job i's key after its checks (key, keyring, segment, record binding), or undefined with its error recorded. */
function checkedKey<T>(batch: DecodedBatch, i: number, keyOf: OpenKeyOf<T>, keys: T, errors: Map<number, KeystrataError>): SecretKey | undefined {
  try {
    const key = keyOf(i, batch.slots[i]!, keys);
    if (batch.unbound[i] === 1) checkRecordBinding(batch.chunks[Math.floor(i / BATCH_VALUES)]!.bytes[batch.bodyAt[i]! + 1]!, batch.jobs[i]!.context);
    return key;
  } catch (error) {
    if (!KeystrataError.isInstance(error)) throw error;
    errors.set(i, error);
    return undefined;
  }
}

function decodeOutcome(bytes: Buffer, start: number, end: number, i: number, values: FieldValue[], errors: Map<number, KeystrataError>): void {
  try {
    values[i] = decodeFieldValueAt(bytes, start, end);
  } catch (error) {
    if (!KeystrataError.isInstance(error)) throw error;
    errors.set(i, error);
  }
}

function openChunkNative<T>(
  aead: NativeAeadModule,
  batch: DecodedBatch,
  chunk: number,
  handles: ChunkHandles,
  keyOf: OpenKeyOf<T>,
  keys: T,
  values: FieldValue[],
  errors: Map<number, KeystrataError>,
): void {
  const start = chunk * BATCH_VALUES;
  const end = Math.min(batch.jobs.length, start + BATCH_VALUES);
  const stride = aead.OPEN_STRIDE;
  const table = new Uint32Array((end - start) * stride);
  const rows = new Int32Array(end - start);
  const natives: NativeAeadKey[] = [];
  const buffer = batch.chunks[chunk]!;
  let count = 0;
  try {
    for (let i = start; i < end; i++) {
      const slot = batch.slots[i]!;
      if (slot < 0) continue;
      const key = checkedKey(batch, i, keyOf, keys, errors);
      if (key === undefined) continue;
      if (handles.chunkOf[slot] !== chunk) {
        handles.chunkOf[slot] = chunk;
        handles.indexIn[slot] = natives.push(nativeKeyOf(aead, key)) - 1;
      }
      const bodyAt = batch.bodyAt[i]!;
      const length = batch.bodyLength[i]!;
      const row = count * stride;
      table[row] = handles.indexIn[slot]!;
      table[row + 1] = bodyAt + HEADER_LENGTH;
      table[row + 2] = bodyAt + IV_END;
      table[row + 3] = length - IV_END - GCM.tagLength;
      table[row + 4] = bodyAt + length - GCM.tagLength;
      table[row + 5] = batch.aadAt[i]!;
      table[row + 6] = batch.aadLength[i]!;
      table[row + 7] = bodyAt + IV_END; // in place: the plaintext replaces the ciphertext once its tag verified
      rows[count++] = i;
    }
    if (count === 0) return;
    const status = new Uint8Array(count);
    const bytes = buffer.bytes;
    aead.openBatch(natives, table.subarray(0, count * stride), bytes, bytes, status);
    for (let row = 0; row < count; row++) {
      const i = rows[row]!;
      // The tag was verified in native code before this plaintext was written (else it is zeros).
      if (status[row] !== 0) errors.set(i, new KeystrataError('CIPHERTEXT_TAMPERED', TAMPERED));
      else decodeOutcome(bytes, table[row * stride + 7]!, table[row * stride + 7]! + table[row * stride + 3]!, i, values, errors);
    }
  } finally {
    buffer.wipe();
  }
}

function openChunkNode<T>(batch: DecodedBatch, chunk: number, keyOf: OpenKeyOf<T>, keys: T, values: FieldValue[], errors: Map<number, KeystrataError>): void {
  const start = chunk * BATCH_VALUES;
  const end = Math.min(batch.jobs.length, start + BATCH_VALUES);
  const bytes = batch.chunks[chunk]!.bytes;
  for (let i = start; i < end; i++) {
    if (batch.slots[i]! < 0) continue;
    const key = checkedKey(batch, i, keyOf, keys, errors);
    if (key === undefined) continue;
    const bodyAt = batch.bodyAt[i]!;
    const tagAt = bodyAt + batch.bodyLength[i]! - GCM.tagLength;
    const aadAt = batch.aadAt[i]!;
    let plaintext: Buffer;
    try {
      plaintext = gcmOpen(
        key.exposeSecretBytes(),
        bytes.subarray(bodyAt + HEADER_LENGTH, bodyAt + IV_END),
        bytes.subarray(bodyAt + IV_END, tagAt),
        bytes.subarray(tagAt, tagAt + GCM.tagLength),
        bytes.subarray(aadAt, aadAt + batch.aadLength[i]!),
      );
    } catch (error) {
      if (!KeystrataError.isInstance(error)) throw error;
      errors.set(i, error);
      continue;
    }
    try {
      values[i] = decodeFieldValue(plaintext);
    } catch (error) {
      if (!KeystrataError.isInstance(error)) throw error;
      errors.set(i, error);
    } finally {
      plaintext.fill(0);
    }
  }
}

/** The error of the lowest job index below `end`, if any. */
function firstErrorBefore(errors: Map<number, KeystrataError>, end: number): KeystrataError | undefined {
  let first = end;
  for (const index of errors.keys()) if (index < first) first = index;
  return first < end ? errors.get(first) : undefined;
}

/**
 * Pass 2 of opening a {@link DecodedBatch}: per chunk of {@link BATCH_VALUES}, each job's key
 * (`keyOf`, which throws its error), then the cipher: the native addon when `aead` is given (one
 * call per chunk, every tag verified before that value's plaintext exists, yielding to the event
 * loop between calls), else node:crypto per value. Fills `values` and `errors` by job index. With
 * `stopAtError`, throws the error of the lowest failing index as soon as its chunk is done. Same
 * values and errors on both paths.
 *
 * @example
 * ```ts
 * const values: FieldValue[] = [];
 * await openDecoded(aead, batch, (index, slot, keys) => keys[slot], deks, values, false);
 * ```
 */
export async function openDecoded<T>(aead: NativeAeadModule | undefined, batch: DecodedBatch, keyOf: OpenKeyOf<T>, keys: T, values: FieldValue[], stopAtError: boolean): Promise<void> {
  const handles = { chunkOf: new Int32Array(batch.ids.length).fill(-1), indexIn: new Int32Array(batch.ids.length) };
  for (let chunk = 0; chunk < batch.chunks.length; chunk++) {
    if (chunk > 0) await nextTurn();
    if (aead === undefined) openChunkNode(batch, chunk, keyOf, keys, values, batch.errors);
    else openChunkNative(aead, batch, chunk, handles, keyOf, keys, values, batch.errors);
    if (stopAtError && batch.errors.size > 0) {
      const error = firstErrorBefore(batch.errors, Math.min(batch.jobs.length, (chunk + 1) * BATCH_VALUES));
      if (error !== undefined) throw error;
    }
  }
}

/**
 * Opens a batch of `ks1` envelopes, one outcome per job ({@link decodeBatch} then
 * {@link openDecoded}): `keyOf(i)` gives job i's checked DEK or throws its error. Same values and
 * errors on the native and node:crypto paths.
 *
 * @example
 * ```ts
 * await openJobs(aead, items, (i) => keys[i], { value: (i, v) => (values[i] = v), error: (i, e) => errors.set(i, e) });
 * ```
 */
export async function openJobs(aead: NativeAeadModule | undefined, jobs: readonly OpenJob[], keyOf: (index: number) => SecretKey, sink: OpenSink): Promise<void> {
  const batch = decodeBatch(jobs, () => undefined);
  const values = new Array<FieldValue>(jobs.length);
  await openDecoded(aead, batch, (index) => keyOf(index), undefined, values, false);
  for (let i = 0; i < jobs.length; i++) {
    const error = batch.errors.get(i);
    if (error === undefined) sink.value(i, values[i]!);
    else sink.error(i, error);
  }
}
