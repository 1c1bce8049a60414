import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blindIndexesOf } from '../blind-index/blind-index-batch.js';
import { blindIndexOf } from '../blind-index/blind-index.js';
import { loadNativeAead, type NativeAeadModule } from '../crypto/native-aead.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { SecretKey } from '../secret/secret-key.js';
import { openJobs, type OpenJob } from './batch-open.js';
import { BATCH_VALUES, sealJobs } from './batch-seal.js';
import type { FieldContext } from './field-context.js';
import { plaintextScratch } from './scratch.js';
import type { FieldValue } from './value-codec.js';

const load = await loadNativeAead();
const native = load.module as NativeAeadModule;
const keys = [SecretKey.takeOwnership(randomBytes(32)), SecretKey.takeOwnership(randomBytes(32))];
const dekIds = keys.map(() => randomBytes(16).toString('hex'));
const keyOf = (context: FieldContext) => {
  const k = context.segment === 's2' ? 1 : 0;
  return { key: keys[k]!, dekId: dekIds[k]! };
};
const contexts: FieldContext[] = [
  { model: 'Patient', field: 'ssn', recordId: 'p1', segment: 's1' },
  { model: 'Patient', field: 'ssn', segment: 's2' },
  { model: 'M'.repeat(2000), field: 'ƒield', recordId: 'r'.repeat(700), segment: 's2' },
  // Short non-ASCII names and record ids (UTF-8 written directly into the batch), and a lone surrogate in a record id (U+FFFD in the AAD on both paths).
  { model: 'Pätient', field: 'ß', recordId: 'é-1', segment: 's1' },
  { model: 'P', field: 'f', recordId: `r\uD800${'x'.repeat(70)}`, segment: 's2' },
];
const values: FieldValue[] = [
  'canary-123',
  '',
  'Zoë 𝄞',
  'x'.repeat(70_000),
  'a'.repeat(64),
  `${'a'.repeat(64)}é`,
  `é${'a'.repeat(200)}`,
  42,
  true,
  10n,
  new Date(0),
  Buffer.from([1, 2]),
  { a: [1, 'b'] },
];
const jobs = values.flatMap((value) => contexts.map((context) => ({ value, context })));

/** Every outcome of opening `items` on one path: the value, or the error's code and message. */
async function outcomes(aead: NativeAeadModule | undefined, items: readonly OpenJob[]): Promise<unknown[]> {
  const out = new Array<unknown>(items.length);
  await openJobs(aead, items, (i) => keyOf(items[i]!.context).key, {
    value: (i, value) => void (out[i] = { value }),
    error: (i, error) => void (out[i] = { code: error.code, message: error.message }),
  });
  return out;
}

describe('issue 16 §paths: native and node:crypto give the same envelopes and the same outcomes', () => {
  it('the addon loaded in this test run', () => {
    expect(load.module?.available).toBe(true);
  });

  it('issue 16 §paths: sealing with the same IVs gives the same text on both paths, byte for byte, for every value type, size and context', async () => {
    const ivs = randomBytes(12 * jobs.length);
    const viaNode = await sealJobs(undefined, jobs, keyOf, ivs);
    const viaNative = await sealJobs(native, jobs, keyOf, ivs);
    expect(viaNative).toEqual(viaNode);
    expect(new Set(viaNative).size).toBe(jobs.length);
  });

  it('issue 16 §paths: a batch over several native calls (more than BATCH_VALUES) matches node:crypto', async () => {
    const many = Array.from({ length: 2 * BATCH_VALUES + 7 }, (_, i) => ({ value: `v${i}`, context: contexts[i % 3]! }));
    const ivs = randomBytes(12 * many.length);
    const sealed = await sealJobs(native, many, keyOf, ivs);
    expect(sealed).toEqual(await sealJobs(undefined, many, keyOf, ivs));
    const opened = await outcomes(
      native,
      sealed.map((ciphertext, i) => ({ ciphertext, context: many[i]!.context })),
    );
    expect(opened).toEqual(many.map(({ value }) => ({ value })));
  });

  it('issue 16 §paths (tamper, as the attacker): every truncation, every flipped bit, moved values and missing record ids give the same typed error on both paths, never plaintext', async () => {
    const text = (await sealJobs(native, [{ value: 'canary-123', context: contexts[0]! }], keyOf))[0]!;
    const body = Buffer.from(text.slice(4), 'base64url');
    const attacks: OpenJob[] = [];
    for (let n = 0; n < text.length; n++) attacks.push({ ciphertext: text.slice(0, n), context: contexts[0]! });
    for (let bit = 0; bit < body.length * 8; bit++) {
      const copy = Buffer.from(body);
      copy[bit >> 3]! ^= 1 << (bit & 7);
      attacks.push({ ciphertext: `ks1.${copy.toString('base64url')}`, context: contexts[0]! });
    }
    for (const context of [
      { ...contexts[0]!, model: 'Other' },
      { ...contexts[0]!, field: 'dob' },
      { ...contexts[0]!, recordId: 'p2' },
      { ...contexts[0]!, recordId: undefined },
    ]) {
      attacks.push({ ciphertext: text, context });
    }
    attacks.push({ ciphertext: 42, context: contexts[0]! }, { ciphertext: `${text}=`, context: contexts[0]! });
    const genuine = { ciphertext: text, context: contexts[0]! };
    const batch = [genuine, ...attacks, genuine];
    const viaNative = await outcomes(native, batch);
    expect(viaNative).toEqual(await outcomes(undefined, batch));
    expect(viaNative[0]).toEqual({ value: 'canary-123' });
    expect(viaNative.at(-1)).toEqual({ value: 'canary-123' });
    const failed = viaNative.slice(1, -1) as Array<{ code?: string }>;
    expect(failed.every((o) => o.code === 'CIPHERTEXT_MALFORMED' || o.code === 'CIPHERTEXT_TAMPERED')).toBe(true);
    expect(failed.filter((o) => o.code === 'CIPHERTEXT_TAMPERED').length).toBeGreaterThan(body.length * 4);
  });

  it('issue 16 §paths: a key error from keyOf fails only its own value, on both paths', async () => {
    const sealed = await sealJobs(native, jobs.slice(0, 3), keyOf);
    const items = sealed.map((ciphertext, i) => ({ ciphertext, context: jobs[i]!.context }));
    for (const aead of [native, undefined]) {
      const out: unknown[] = [];
      await openJobs(
        aead,
        items,
        (i) => {
          if (i === 1) throw new KeystrataError('KEY_DISABLED', 'disabled');
          return keyOf(items[i]!.context).key;
        },
        { value: (i, value) => void (out[i] = value), error: (i, error) => void (out[i] = error.code) },
      );
      expect(out).toEqual(['canary-123', 'KEY_DISABLED', 'canary-123']);
    }
  });

  it('issue 16 §chunks: a batch bigger than BATCH_VALUES lets the event loop run between native calls', async () => {
    const many = Array.from({ length: BATCH_VALUES + 1 }, (_, i) => ({ value: `v${i}`, context: contexts[0]! }));
    const sealed = (await sealJobs(native, many, keyOf)).map((ciphertext) => ({ ciphertext, context: contexts[0]! }));
    // Whether a setImmediate queued before the batch had run, at each native call.
    const watch = (call: 'sealBatch' | 'openBatch') => {
      const seen: boolean[] = [];
      let ran = false;
      setImmediate(() => {
        ran = true;
      });
      const aead: NativeAeadModule = { ...native, [call]: (...args: Parameters<NativeAeadModule['sealBatch']>) => (seen.push(ran), native[call](...args)) };
      return { aead, seen };
    };
    const sealing = watch('sealBatch');
    await sealJobs(sealing.aead, many, keyOf);
    const opening = watch('openBatch');
    await openJobs(opening.aead, sealed, () => keys[0]!, { value: () => undefined, error: () => undefined });
    expect(sealing.seen).toEqual([false, true]);
    expect(opening.seen).toEqual([false, true]);
  });

  it('issue 16 §paths: the plaintext scratch is zero-filled after a native batch seal', async () => {
    await sealJobs(native, [{ value: 'canary-zero-fill', context: contexts[0]! }], keyOf);
    expect(plaintextScratch.current.includes('canary-zero-fill')).toBe(false);
  });
});

describe('issue 16 §blind-index: native HMAC batches give the same bi1 indexes', () => {
  it('issue 16 §blind-index: every value type and size, over several native calls, equals blindIndexOf (node:crypto) on both paths', async () => {
    const fieldKey = SecretKey.takeOwnership(randomBytes(32));
    const many = Array.from({ length: BATCH_VALUES + 5 }, (_, i) => ({ value: values[i % values.length]! }));
    const indexes = many.map((_, i) => i).filter((i) => i % 3 !== 1);
    const viaNative: string[] = [];
    const viaNode: string[] = [];
    await blindIndexesOf(native, fieldKey, indexes, many, viaNative);
    await blindIndexesOf(undefined, fieldKey, indexes, many, viaNode);
    expect(viaNative).toEqual(viaNode);
    expect(viaNative.filter((x) => x !== undefined)).toHaveLength(indexes.length);
    for (const i of indexes) expect(viaNative[i]).toBe(blindIndexOf(fieldKey, many[i]!.value));
    fieldKey.destroy();
  });

  it('issue 16 §blind-index: a string with a lone surrogate is PLAINTEXT_REJECTED on both paths', async () => {
    const fieldKey = SecretKey.takeOwnership(randomBytes(32));
    for (const aead of [native, undefined]) {
      await expect(blindIndexesOf(aead, fieldKey, [0, 1], [{ value: 'ok' }, { value: 'a\uD800' }], [])).rejects.toSatisfy((e: unknown) => KeystrataError.isInstance(e, 'PLAINTEXT_REJECTED'));
    }
  });
});

describe('issue 16 §keys: the native handle lives beside the SecretKey', () => {
  it('issue 16 §keys: created once per key, released (refusing use) when the key is destroyed', async () => {
    const secret = SecretKey.takeOwnership(randomBytes(32));
    const first = secret.nativeHandle((bytes) => new native.AeadKey(bytes));
    let created = 0;
    const again = secret.nativeHandle((bytes) => (created++, new native.AeadKey(bytes)));
    expect(again).toBe(first);
    expect(created).toBe(0);
    secret.destroy();
    expect((first as unknown as { released: boolean }).released).toBe(true);
    expect(() => secret.nativeHandle((bytes) => new native.AeadKey(bytes))).toThrow(/zero-filled/);
  });
});
