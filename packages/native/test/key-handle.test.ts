import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AeadKey, OPEN_STRIDE, openBatch, openValues, releaseForTesting, SEAL_STRIDE, sealBatch, sealValues } from '../lib/index.mjs';

const iv = Buffer.alloc(12, 1);

function errorOf(run: () => unknown): Error & { code?: string } {
  try {
    run();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe('issue 16 §keys: native key handles', () => {
  it('issue 16 §keys: the key is copied (the caller buffer is untouched) and release() zero-fills the native copy before freeing it', () => {
    const bytes = randomBytes(32);
    const copy = Buffer.from(bytes);
    const key = new AeadKey(bytes);
    sealValues([{ key, iv, plaintext: Buffer.from('x') }]);
    expect(bytes.equals(copy)).toBe(true);
    const readBack = releaseForTesting(key);
    expect([...readBack]).toEqual(new Array(32).fill(0));
    expect(bytes.equals(copy)).toBe(true);
    expect(key.released).toBe(true);
  });

  it('issue 16 §keys: a released key refuses every use, in the friendly and the low-level calls; release is idempotent', () => {
    const key = new AeadKey(randomBytes(32));
    const [sealed] = sealValues([{ key, iv, plaintext: Buffer.from('secret') }]);
    key.release();
    key.release();
    expect(errorOf(() => sealValues([{ key, iv, plaintext: Buffer.from('x') }])).code).toBe('ERR_KEYSTRATA_NATIVE_KEY_RELEASED');
    expect(errorOf(() => openValues([{ key, iv, ciphertext: sealed!.ciphertext, tag: sealed!.tag }])).code).toBe('ERR_KEYSTRATA_NATIVE_KEY_RELEASED');
    const table = new Uint32Array([0, 0, 12, 0, 12, 0, 0]);
    expect(errorOf(() => sealBatch([key], table, Buffer.alloc(12), Buffer.alloc(16), new Uint8Array(1))).code).toBe('ERR_KEYSTRATA_NATIVE_KEY_RELEASED');
  });

  it('issue 16 §keys: no key bytes in errors, printing or JSON', () => {
    const bytes = Buffer.alloc(32, 0x41);
    const key = new AeadKey(bytes);
    expect(inspect(key)).toBe('AeadKey(live)');
    expect(JSON.stringify({ key })).toBe('{"key":"[AeadKey]"}');
    expect(String(key)).toBe('[AeadKey]');
    const error = errorOf(() => new AeadKey(Buffer.concat([bytes, Buffer.from('A')])));
    expect(error.code).toBe('ERR_KEYSTRATA_NATIVE_KEY_LENGTH');
    expect(`${error.message}${error.stack}`).not.toMatch(/AAAA|4141/);
    key.release();
  });
});

describe('issue 16 §boundary: every input validated once, before any value is processed', () => {
  const key = new AeadKey(randomBytes(32));

  it('issue 16 §boundary: IV must be exactly 12 bytes and the tag exactly 16', () => {
    expect(errorOf(() => sealValues([{ key, iv: Buffer.alloc(16), plaintext: Buffer.alloc(1) }])).code).toBe('ERR_KEYSTRATA_NATIVE_IV_LENGTH');
    expect(errorOf(() => openValues([{ key, iv, ciphertext: Buffer.alloc(1), tag: Buffer.alloc(4) }])).code).toBe('ERR_KEYSTRATA_NATIVE_TAG_LENGTH');
    expect(errorOf(() => sealValues([{ key, iv, plaintext: 'text' as unknown as Uint8Array }])).code).toBe('ERR_KEYSTRATA_NATIVE_ARGUMENT');
    expect(errorOf(() => sealValues([{ key: {} as AeadKey, iv, plaintext: Buffer.alloc(1) }])).code).toBe('ERR_KEYSTRATA_NATIVE_KEY');
  });

  it('issue 16 §boundary: a table entry outside its buffers fails the whole call before anything is written', () => {
    const input = Buffer.alloc(12 + 4);
    const output = Buffer.alloc(64, 0xee);
    const status = new Uint8Array(2).fill(9);
    const good = [0, 0, 12, 4, 0, 0, 0];
    const cases = [
      [0, 0, 12, 5, 0, 0, 20], // plaintext past the input
      [1, 0, 12, 4, 0, 0, 20], // key index
      [0, 5, 12, 4, 0, 0, 20], // IV past the input
      [0, 0, 12, 4, 0, 0, 45], // ciphertext and tag past the output
      [0, 0, 12, 4, 0xffffffff, 2, 20], // AAD offset overflow
    ];
    for (const bad of cases) {
      expect(errorOf(() => sealBatch([key], new Uint32Array([...good, ...bad]), input, output, status)).code).toBe('ERR_KEYSTRATA_NATIVE_RANGE');
      expect(output.every((byte) => byte === 0xee)).toBe(true);
      expect([...status]).toEqual([9, 9]);
    }
    const openCases = [
      [0, 0, 12, 4, 12, 0, 0, 61], // plaintext past the output
      [0, 0, 12, 4, 13, 0, 0, 0], // tag past the input
    ];
    for (const bad of openCases) {
      expect(errorOf(() => openBatch([key], new Uint32Array(bad), Buffer.alloc(28), output, status)).code).toBe('ERR_KEYSTRATA_NATIVE_RANGE');
    }
    expect(errorOf(() => sealBatch([key], new Uint32Array(SEAL_STRIDE + 1), input, output, status)).code).toBe('ERR_KEYSTRATA_NATIVE_ARGUMENT');
    expect(errorOf(() => openBatch([key], new Uint32Array(OPEN_STRIDE), input, output, new Uint8Array(0))).code).toBe('ERR_KEYSTRATA_NATIVE_ARGUMENT');
    expect(errorOf(() => openBatch([key], new Int32Array(OPEN_STRIDE) as unknown as Uint32Array, input, output, status)).code).toBe('ERR_KEYSTRATA_NATIVE_ARGUMENT');
  });

  it('issue 16 §boundary: a value whose tag fails gets status 1 and a zero-filled output; its neighbours open', () => {
    const [a, b] = sealValues([
      { key, iv, plaintext: Buffer.from('first value') },
      { key, iv, plaintext: Buffer.from('second value') },
    ]);
    const bad = Buffer.from(b!.tag);
    bad[15]! ^= 0x80;
    const input = Buffer.concat([iv, a!.ciphertext, a!.tag, b!.ciphertext, bad]);
    const table = new Uint32Array([0, 0, 12, 11, 23, 0, 0, 0, 0, 0, 39, 12, 51, 0, 0, 11]);
    const output = Buffer.alloc(23, 0xee);
    const status = new Uint8Array(2);
    expect(openBatch([key], table, input, output, status)).toBe(1);
    expect([...status]).toEqual([0, 1]);
    expect(output.toString('utf8', 0, 11)).toBe('first value');
    expect(output.subarray(11).every((byte) => byte === 0)).toBe(true);
  });
});
