import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AeadKey, hmacBatch, hmacValues, MacKey, releaseForTesting } from '../lib/index.mjs';

function errorOf(run: () => unknown): Error & { code?: string } {
  try {
    run();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe('issue 16 §blind-index: native HMAC-SHA256 batches', () => {
  it('issue 16 §blind-index: 20,000 random cases (lengths 0..8 KiB, random keys) equal node:crypto createHmac', () => {
    let compared = 0;
    for (let batch = 0; batch < 10; batch++) {
      const raw = Array.from({ length: 20 }, () => randomBytes(32));
      const keys = raw.map((bytes) => new MacKey(bytes));
      try {
        const cases = Array.from({ length: 2000 }, () => ({ k: randomInt(0, 20), data: randomBytes(Math.random() < 0.9 ? randomInt(0, 100) : randomInt(0, 8193)) }));
        const macs = hmacValues(cases.map((c) => ({ key: keys[c.k]!, data: c.data })));
        cases.forEach((c, i) => {
          if (!macs[i]!.equals(createHmac('sha256', raw[c.k]!).update(c.data).digest())) expect.fail(`case ${batch}/${i} differs`);
          compared++;
        });
      } finally {
        for (const key of keys) key.release();
      }
    }
    expect(compared).toBe(20_000);
  });

  it('issue 16 §blind-index: RFC 4231 test case 2 shape (a 32-byte key) matches node:crypto, and the key is copied, then zero-filled on release', () => {
    const bytes = Buffer.alloc(32, 0x0b);
    const key = new MacKey(bytes);
    const [mac] = hmacValues([{ key, data: Buffer.from('Hi There') }]);
    expect(mac!.toString('hex')).toBe(createHmac('sha256', bytes).update('Hi There').digest('hex'));
    expect([...releaseForTesting(key)]).toEqual(new Array(32).fill(0));
    expect(bytes.every((b) => b === 0x0b)).toBe(true);
    expect(errorOf(() => hmacValues([{ key, data: Buffer.from('x') }])).code).toBe('ERR_KEYSTRATA_NATIVE_KEY_RELEASED');
  });

  it('issue 16 §blind-index: keys of the wrong kind, lengths and table entries outside the buffers are refused before anything is computed', () => {
    const key = new MacKey(randomBytes(32));
    const aead = new AeadKey(randomBytes(32));
    expect(errorOf(() => new MacKey(Buffer.alloc(16))).code).toBe('ERR_KEYSTRATA_NATIVE_KEY_LENGTH');
    expect(errorOf(() => hmacValues([{ key: aead as unknown as MacKey, data: Buffer.alloc(1) }])).code).toBe('ERR_KEYSTRATA_NATIVE_KEY');
    expect(errorOf(() => hmacBatch([aead as unknown as MacKey], new Uint32Array([0, 0, 0, 0]), Buffer.alloc(1), Buffer.alloc(32), new Uint8Array(1))).code).toBe('ERR_KEYSTRATA_NATIVE_KEY');
    const output = Buffer.alloc(64, 0xee);
    for (const bad of [
      [1, 0, 1, 0],
      [0, 0, 9, 0],
      [0, 0, 1, 33],
      [0, 0xffffffff, 2, 0],
    ]) {
      expect(errorOf(() => hmacBatch([key], new Uint32Array([0, 0, 1, 0, ...bad]), Buffer.alloc(8), output, new Uint8Array(2))).code).toBe('ERR_KEYSTRATA_NATIVE_RANGE');
      expect(output.every((b) => b === 0xee)).toBe(true);
    }
    key.release();
    aead.release();
  });
});
