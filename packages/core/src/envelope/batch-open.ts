import { GCM } from '../crypto/aes-gcm.js';
import type { NativeAeadKey, NativeAeadModule } from '../crypto/native-aead.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { SecretKey } from '../secret/secret-key.js';
import { aadCapacity, writeAadAt } from './aad.js';
import { BatchBytes } from './batch-bytes.js';
import { BATCH_VALUES, nativeKeyOf, nextTurn } from './batch-seal.js';
import { decodeEnvelopeBodyInto, envelopeBodyCapacity, HEADER_LENGTH } from './envelope-format.js';
import type { FieldContext } from './field-context.js';
import { checkRecordBinding, openText } from './seal.js';
import { decodeFieldValue, type FieldValue } from './value-codec.js';

/** A stored value to open and the context it is read in. */
export interface OpenJob {
  readonly ciphertext: unknown;
  readonly context: FieldContext;
}

/** Receives each job's outcome: its value, or its typed error (one bad value fails only itself). */
export interface OpenSink {
  value(index: number, value: FieldValue): void;
  error(index: number, error: KeystrataError): void;
}

const IV_END = HEADER_LENGTH + GCM.ivLength;
const TAMPERED = 'The authentication tag did not verify.';

/** Runs `step`; a KeystrataError goes to the sink, anything else fails the batch. */
function attempt(sink: OpenSink, index: number, step: () => void): void {
  try {
    step();
  } catch (error) {
    if (!KeystrataError.isInstance(error)) throw error;
    sink.error(index, error);
  }
}

function decodeInto(plaintext: Buffer): FieldValue {
  try {
    return decodeFieldValue(plaintext);
  } finally {
    plaintext.fill(0);
  }
}

function openChunk(aead: NativeAeadModule, jobs: readonly OpenJob[], start: number, end: number, keyOf: (index: number) => SecretKey, sink: OpenSink): void {
  const table = new Uint32Array((end - start) * aead.OPEN_STRIDE);
  const handles: NativeAeadKey[] = [];
  const handleIndexes = new Map<SecretKey, number>();
  const input = new BatchBytes((end - start) * 160);
  const indexes: number[] = [];
  let outputLength = 0;
  const stride = aead.OPEN_STRIDE;
  for (let i = start; i < end; i++) {
    attempt(sink, i, () => {
      const { ciphertext, context } = jobs[i]!;
      const key = keyOf(i);
      const bodyAt = input.reserve(envelopeBodyCapacity(ciphertext));
      let length: number;
      try {
        length = decodeEnvelopeBodyInto(ciphertext, input.bytes, bodyAt);
        checkRecordBinding(input.bytes[bodyAt + 1]!, context);
      } catch (error) {
        input.truncate(bodyAt);
        throw error;
      }
      input.truncate(bodyAt + length);
      let handle = handleIndexes.get(key);
      if (handle === undefined) handleIndexes.set(key, (handle = handles.push(nativeKeyOf(aead, key)) - 1));
      const aadAt = input.reserve(aadCapacity(context));
      const aadLength = writeAadAt(input.bytes, aadAt, input.bytes, bodyAt, context);
      input.truncate(aadAt + aadLength);
      const ciphertextLength = length - IV_END - GCM.tagLength;
      const row = (indexes.push(i) - 1) * stride;
      table[row] = handle;
      table[row + 1] = bodyAt + HEADER_LENGTH;
      table[row + 2] = bodyAt + IV_END;
      table[row + 3] = ciphertextLength;
      table[row + 4] = bodyAt + length - GCM.tagLength;
      table[row + 5] = aadAt;
      table[row + 6] = aadLength;
      table[row + 7] = outputLength;
      outputLength += ciphertextLength;
    });
  }
  if (indexes.length === 0) return;
  const output = Buffer.alloc(outputLength);
  const status = new Uint8Array(indexes.length);
  try {
    aead.openBatch(handles, table.subarray(0, indexes.length * aead.OPEN_STRIDE), input.bytes, output, status);
    for (let row = 0; row < indexes.length; row++) {
      const i = indexes[row]!;
      attempt(sink, i, () => {
        // The tag was verified in native code before this plaintext was written (else it is zeros).
        if (status[row] !== 0) throw new KeystrataError('CIPHERTEXT_TAMPERED', TAMPERED);
        const at = table[row * aead.OPEN_STRIDE + 7]!;
        sink.value(i, decodeInto(output.subarray(at, at + table[row * aead.OPEN_STRIDE + 3]!)));
      });
    }
  } finally {
    output.fill(0);
  }
}

/**
 * Opens a batch of `ks1` envelopes, one outcome per job: through the native addon when `aead` is
 * given (one call per {@link BATCH_VALUES}, every tag verified before that value's plaintext
 * exists, yielding to the event loop between calls), else `openText` (node:crypto) per value.
 * `keyOf(i)` gives job i's checked DEK or throws its error. Same values and errors on both paths.
 *
 * @example
 * ```ts
 * await openJobs(aead, items, (i) => keys[i], { value: (i, v) => (values[i] = v), error: (i, e) => errors.set(i, e) });
 * ```
 */
export async function openJobs(aead: NativeAeadModule | undefined, jobs: readonly OpenJob[], keyOf: (index: number) => SecretKey, sink: OpenSink): Promise<void> {
  if (aead === undefined) {
    for (let i = 0; i < jobs.length; i++) {
      attempt(sink, i, () => {
        const { ciphertext, context } = jobs[i]!;
        const key = keyOf(i);
        sink.value(i, decodeInto(openText(key.exposeSecretBytes(), ciphertext, context)));
      });
    }
    return;
  }
  for (let start = 0; start < jobs.length; start += BATCH_VALUES) {
    if (start > 0) await nextTurn();
    openChunk(aead, jobs, start, Math.min(jobs.length, start + BATCH_VALUES), keyOf, sink);
  }
}
