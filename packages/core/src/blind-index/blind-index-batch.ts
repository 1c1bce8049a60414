import type { NativeAeadModule } from '../crypto/native-aead.js';
import { BatchBytes } from '../envelope/batch-bytes.js';
import { base64url } from '../envelope/buffer-direct.js';
import { appendPlaintext, BATCH_VALUES, nextTurn } from '../envelope/batch-seal.js';
import type { FieldValue } from '../envelope/value-codec.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { SecretKey } from '../secret/secret-key.js';
import { BLIND_INDEX_PREFIX, blindIndexOf } from './blind-index.js';

const MAC_LENGTH = 32;

/**
 * Up to this many values, {@link blindIndexOf} (node:crypto) per value: the native batch's fixed
 * cost (table, buffers, the call) is more than one createHmac (measured 4.0 vs 3.6 µs for one
 * value through `hierarchy.blindIndexes`, 5.5 vs 9.4 µs for four). A single lookup is the common case.
 */
const NATIVE_FROM = 2;

function indexChunk(aead: NativeAeadModule, key: SecretKey, indexes: readonly number[], start: number, end: number, values: readonly { readonly value: FieldValue }[], out: string[]): void {
  const handle = key.nativeHandle((bytes) => new aead.MacKey(bytes));
  const table = new Uint32Array((end - start) * aead.MAC_STRIDE);
  const input = new BatchBytes((end - start) * 64);
  const output = Buffer.alloc((end - start) * MAC_LENGTH);
  try {
    for (let k = start; k < end; k++) {
      const at = appendPlaintext(input, values[indexes[k]!]!.value);
      const row = (k - start) * aead.MAC_STRIDE;
      table[row + 1] = at;
      table[row + 2] = input.length - at;
      table[row + 3] = (k - start) * MAC_LENGTH;
    }
    if (aead.hmacBatch([handle], table, input.bytes, output, new Uint8Array(end - start)) !== 0) {
      throw new KeystrataError('PLAINTEXT_REJECTED', 'The native HMAC-SHA256 failed to compute a blind index.', {
        hint: 'This is an internal error, not a problem with the value: set KEYSTRATA_AEAD=node to use node:crypto, and report it.',
      });
    }
  } finally {
    input.wipe();
  }
  for (let k = start; k < end; k++) out[indexes[k]!] = BLIND_INDEX_PREFIX + base64url(output, (k - start) * MAC_LENGTH, (k - start + 1) * MAC_LENGTH);
}

/**
 * The blind indexes of `values[i]` for every `i` in `indexes`, all under one field key, into
 * `out[i]`: HMAC-SHA256 in native batches (one call per {@link BATCH_VALUES}, yielding between
 * calls) when `aead` is given and there are at least two values, else {@link blindIndexOf} per
 * value. Same `bi1.` text either way.
 *
 * @example
 * ```ts
 * await blindIndexesOf(aead, fieldKey, group.indexes, items, out);
 * ```
 */
export async function blindIndexesOf(aead: NativeAeadModule | undefined, key: SecretKey, indexes: readonly number[], values: readonly { readonly value: FieldValue }[], out: string[]): Promise<void> {
  if (aead === undefined || indexes.length < NATIVE_FROM) {
    for (const i of indexes) out[i] = blindIndexOf(key, values[i]!.value);
    return;
  }
  for (let start = 0; start < indexes.length; start += BATCH_VALUES) {
    if (start > 0) await nextTurn();
    indexChunk(aead, key, indexes, start, Math.min(indexes.length, start + BATCH_VALUES), values, out);
  }
}
