import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadNativeAead, type NativeAeadModule } from '../crypto/native-aead.js';
import { SecretKey } from '../secret/secret-key.js';
import { blindIndexesOf } from './blind-index-batch.js';
import { blindIndexOf } from './blind-index.js';

const native = (await loadNativeAead()).module as NativeAeadModule;

/** The native module with its HMAC batch calls counted. */
function counting(): { aead: NativeAeadModule; calls: () => number } {
  let calls = 0;
  const aead: NativeAeadModule = {
    ...native,
    hmacBatch: (...args) => {
      calls++;
      return native.hmacBatch(...args);
    },
  };
  return { aead, calls: () => calls };
}

describe('blind indexes of small batches (issue 16 §W3)', () => {
  it('issue 16 §W3: a single lookup value is indexed without a native batch call (its fixed cost is more than one createHmac), with the same bi1 text', async () => {
    const key = SecretKey.takeOwnership(randomBytes(32));
    const { aead, calls } = counting();
    const one: string[] = [];
    await blindIndexesOf(aead, key, [0], [{ value: 'ada@example.test' }], one);
    expect(one).toEqual([blindIndexOf(key, 'ada@example.test')]);
    expect(calls()).toBe(0);
    const two: string[] = [];
    await blindIndexesOf(aead, key, [0, 1], [{ value: 'ada@example.test' }, { value: 'bob@example.test' }], two);
    expect(two).toEqual([blindIndexOf(key, 'ada@example.test'), blindIndexOf(key, 'bob@example.test')]);
    expect(calls()).toBe(1);
    key.destroy();
  });
});
