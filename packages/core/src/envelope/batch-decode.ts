import { KeystrataError } from '../errors/keystrata-error.js';
import { aadCapacity, writeAadAt } from './aad.js';
import { BatchBytes } from './batch-bytes.js';
import { BATCH_VALUES } from './batch-seal.js';
import { hex } from './buffer-direct.js';
import { DEK_ID_LENGTH, decodeEnvelopeBodyInto, envelopeBodyCapacity, FLAG_RECORD_BOUND, HEADER_LENGTH } from './envelope-format.js';
import type { FieldContext } from './field-context.js';

/** A stored value to open and the context it is read in. */
export interface OpenJob {
  readonly ciphertext: unknown;
  readonly context: FieldContext;
}

/**
 * A batch of stored values decoded once (pass 1 of opening): each envelope's body and AAD in the
 * buffer of its chunk of {@link BATCH_VALUES}, its DEK as a slot into `ids`, and the errors found
 * so far. Bodies and AADs are public data; opening decrypts in place and wipes each chunk.
 *
 * @example
 * ```ts
 * const batch = decodeBatch(items, (context) => checkContext(context, false));
 * const keys = await resolve(batch.ids); // then openDecoded(aead, batch, …)
 * ```
 */
export interface DecodedBatch {
  readonly jobs: readonly OpenJob[];
  readonly chunks: BatchBytes[];
  /** Per job: where its body starts in its chunk, and its length. */
  readonly bodyAt: Uint32Array;
  readonly bodyLength: Uint32Array;
  /** Per job: where its AAD starts in its chunk, and its length. */
  readonly aadAt: Uint32Array;
  readonly aadLength: Uint32Array;
  /** Per job: its DEK's index in `ids`, or -1 when it failed to decode (its error is in `errors`). */
  readonly slots: Int32Array;
  /** The DEK ids named, each once, and how many jobs use each. */
  readonly ids: string[];
  readonly uses: number[];
  /** Per job: 1 when it is record-bound but read without a record id (its error comes after its key checks). */
  readonly unbound: Uint8Array;
  /** Errors by job index. */
  readonly errors: Map<number, KeystrataError>;
}

/** AAD bytes assumed per value when sizing a chunk (it grows if they are longer). */
const AAD_ESTIMATE = 96;

/**
 * Pass 1 of opening: checks each job's context (`checkContext`, which throws its typed error),
 * decodes its envelope once (every check of `decodeEnvelopeBody`), notes its DEK and writes its
 * AAD. A job that fails gets its error and takes no further part.
 *
 * @example
 * ```ts
 * const batch = decodeBatch(items, (context) => checkContext(context, false));
 * ```
 */
export function decodeBatch(jobs: readonly OpenJob[], checkContext: (context: FieldContext) => void): DecodedBatch {
  const count = jobs.length;
  const batch: DecodedBatch = {
    jobs,
    chunks: [],
    bodyAt: new Uint32Array(count),
    bodyLength: new Uint32Array(count),
    aadAt: new Uint32Array(count),
    aadLength: new Uint32Array(count),
    slots: new Int32Array(count).fill(-1),
    ids: [],
    uses: [],
    unbound: new Uint8Array(count),
    errors: new Map<number, KeystrataError>(),
  };
  const slotOf = new Map<string, number>();
  const last = { id: Buffer.alloc(DEK_ID_LENGTH), slot: -1 };
  for (let start = 0; start < count; start += BATCH_VALUES) {
    const end = Math.min(count, start + BATCH_VALUES);
    let capacity = 0;
    for (let i = start; i < end; i++) capacity += envelopeBodyCapacity(jobs[i]!.ciphertext) + AAD_ESTIMATE;
    const chunk = new BatchBytes(capacity);
    batch.chunks.push(chunk);
    for (let i = start; i < end; i++) decodeJob(batch, chunk, i, checkContext, slotOf, last);
  }
  return batch;
}

/** Decodes job i into `chunk`, or records its error. */
function decodeJob(batch: DecodedBatch, chunk: BatchBytes, i: number, checkContext: (context: FieldContext) => void, slotOf: Map<string, number>, last: { id: Buffer; slot: number }): void {
  const { ciphertext, context } = batch.jobs[i]!;
  const at = chunk.length;
  let length: number;
  try {
    checkContext(context);
    chunk.reserve(envelopeBodyCapacity(ciphertext));
    length = decodeEnvelopeBodyInto(ciphertext, chunk.bytes, at);
  } catch (error) {
    chunk.truncate(at);
    if (!KeystrataError.isInstance(error)) throw error;
    batch.errors.set(i, error);
    return;
  }
  chunk.truncate(at + length);
  const bytes = chunk.bytes;
  batch.bodyAt[i] = at;
  batch.bodyLength[i] = length;
  let same = last.slot >= 0;
  for (let k = 0; same && k < DEK_ID_LENGTH; k++) same = bytes[at + 2 + k] === last.id[k];
  if (!same) {
    const id = hex(bytes, at + 2, at + HEADER_LENGTH);
    let slot = slotOf.get(id);
    if (slot === undefined) {
      slotOf.set(id, (slot = batch.ids.push(id) - 1));
      batch.uses.push(0);
    }
    last.slot = slot;
    for (let k = 0; k < DEK_ID_LENGTH; k++) last.id[k] = bytes[at + 2 + k]!;
  }
  batch.slots[i] = last.slot;
  batch.uses[last.slot]!++;
  if ((bytes[at + 1]! & FLAG_RECORD_BOUND) !== 0 && (context.recordId === undefined || context.recordId === '')) {
    batch.unbound[i] = 1;
    return;
  }
  const aadAt = chunk.reserve(aadCapacity(context));
  const aadLength = writeAadAt(chunk.bytes, aadAt, chunk.bytes, at, context);
  chunk.truncate(aadAt + aadLength);
  batch.aadAt[i] = aadAt;
  batch.aadLength[i] = aadLength;
}
