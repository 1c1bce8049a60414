import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadNativeAead, type NativeAeadModule } from '../src/crypto/native-aead.js';
import { BATCH_VALUES } from '../src/envelope/batch-seal.js';
import { decodeEnvelope } from '../src/envelope/envelope-format.js';
import type { FieldContext } from '../src/envelope/field-context.js';
import { decodeFieldValue, encodeFieldValue, type FieldValue } from '../src/envelope/value-codec.js';
import { plaintextScratch } from '../src/envelope/scratch.js';
import { pair, PATHS } from './aead-pair.js';

// Issue 16, the independent review of the core's value paths: each finding, written as the attack,
// on both AEAD paths (the native addon and node:crypto), which must give identical outcomes.

const context: FieldContext = { model: 'Patient', field: 'ssn', recordId: 'p1', segment: 'tenant:a' };

/** `name code message` of how a promise settles. */
const outcomeOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'resolved',
    (error: Error & { code?: string }) => `${error.name} ${error.code ?? ''} ${error.message}`,
  );

describe('issue 16 §review 1: only the base64url alphabet may follow "ks1."', () => {
  it.each(PATHS)('issue 16 §review: (%s) a body character swapped for one above U+00FF with the same low byte (A → U+0141) is CIPHERTEXT_MALFORMED, never the plaintext', async (path) => {
    await pair(async (h) => {
      const good = await h.native.encryptValue('canary-123', context);
      for (const i of [4, 10, 30, good.length - 1]) {
        for (const high of [0x100, 0x4100, 0xff00]) {
          const forged = good.slice(0, i) + String.fromCharCode(high + good.charCodeAt(i)) + good.slice(i + 1);
          expect(forged).not.toBe(good);
          const [result] = await h[path].decryptValuesSettled([{ ciphertext: forged, context }]);
          expect(result).toMatchObject({ ok: false, error: { code: 'CIPHERTEXT_MALFORMED' } });
          await expect(h[path].decryptValue(forged, context)).rejects.toMatchObject({ code: 'CIPHERTEXT_MALFORMED' });
          expect(() => decodeEnvelope(forged)).toThrow(expect.objectContaining({ code: 'CIPHERTEXT_MALFORMED' }));
        }
      }
      // A Latin-1 character (its low byte not in the alphabet) is refused too, and the untouched text still opens.
      const latin1 = `${good.slice(0, 10)}\u00c1${good.slice(11)}`;
      await expect(h[path].decryptValue(latin1, context)).rejects.toMatchObject({ code: 'CIPHERTEXT_MALFORMED' });
      expect(await h[path].decryptValue(good, context)).toBe('canary-123');
    });
  });
});

describe('issue 16 §review 2: a context that is not well-formed Unicode is refused', () => {
  const lone: Array<[keyof FieldContext, string]> = [
    ['recordId', 'p\uD800'],
    ['recordId', 'p\uDBFF'],
    ['model', 'M\uDC00'],
    ['field', 'f\uDFFF'],
    ['segment', 'tenant:\uD800'],
    ['keyring', 'k\uDC00'],
  ];

  it.each(PATHS)('issue 16 §review: (%s) sealing for a context with a lone surrogate is CONFIG_INVALID (it would be bound as U+FFFD)', async (path) => {
    await pair(async (h) => {
      for (const [key, text] of lone) {
        await expect(h[path].encryptValue('canary-rec', { ...context, [key]: text })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      }
    });
  });

  it.each(PATHS)(
    'issue 16 §review: (%s) a value sealed for recordId "p\\uFFFD" is not read under recordId "p\\uD800" / "p\\uDBFF", nor model "M\\uDFFF" for "M\\uFFFD"; only that item fails',
    async (path) => {
      await pair(async (h) => {
        const sealedRecord = await h[path].encryptValue('canary-rec', { ...context, recordId: 'p\uFFFD' });
        const sealedModel = await h[path].encryptValue('canary-model', { ...context, model: 'M\uFFFD' });
        const results = await h[path].decryptValuesSettled([
          { ciphertext: sealedRecord, context: { ...context, recordId: 'p\uD800' } },
          { ciphertext: sealedRecord, context: { ...context, recordId: 'p\uFFFD' } },
          { ciphertext: sealedRecord, context: { ...context, recordId: 'p\uDBFF' } },
          { ciphertext: sealedModel, context: { ...context, model: 'M\uDFFF' } },
          { ciphertext: sealedModel, context: { ...context, model: 'M\uFFFD' } },
        ]);
        expect(results.map((r) => (r.ok ? r.value : r.error.code))).toEqual(['CONFIG_INVALID', 'canary-rec', 'CONFIG_INVALID', 'CONFIG_INVALID', 'canary-model']);
        for (const [key, text] of lone) {
          await expect(h[path].decryptValue(sealedRecord, { ...context, recordId: 'p\uFFFD', [key]: text })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
        }
      });
    },
  );

  it('Precondition: the context is well-formed Unicode.', async () => {
    await pair(async (h) => {
      const a = await outcomeOf(h.native.encryptValues([{ value: 'v', context: { ...context, field: 'f\uD800' } }]));
      const b = await outcomeOf(h['node:crypto'].encryptValues([{ value: 'v', context: { ...context, field: 'f\uD800' } }]));
      expect(a).toMatch(/^KeystrataError CONFIG_INVALID .*lone UTF-16 surrogate/);
      expect(b).toBe(a);
    });
  });
});

describe('issue 16 §review 3: context field types are checked once per item, with the same typed error on both paths', () => {
  it.each(PATHS)('issue 16 §review: (%s) a numeric recordId fails only its own item in decryptValuesSettled', async (path) => {
    await pair(async (h) => {
      const unboundContext = { ...context, recordId: undefined };
      const unbound = await h.native.encryptValue('canary-unbound', unboundContext);
      const good = await h.native.encryptValue('canary-good', context);
      const results = await h[path].decryptValuesSettled([
        { ciphertext: good, context },
        { ciphertext: unbound, context: { ...unboundContext, recordId: 42 as unknown as string } },
        { ciphertext: good, context: { ...context, recordId: 1 as unknown as string } },
        { ciphertext: good, context: { ...context, segment: 5 as unknown as string } },
        { ciphertext: good, context: { ...context, keyring: {} as unknown as string } },
        { ciphertext: good, context },
      ]);
      expect(results.map((r) => (r.ok ? r.value : r.error.code))).toEqual(['canary-good', 'CONFIG_INVALID', 'CONFIG_INVALID', 'CONFIG_INVALID', 'CONFIG_INVALID', 'canary-good']);
      await expect(
        h[path].decryptValues([
          { ciphertext: good, context },
          { ciphertext: good, context: { ...context, recordId: 1 as unknown as string } },
        ]),
      ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    });
  });

  it('issue 16 §review: encryptValues with recordId 7 (or a numeric segment or keyring) rejects with the same typed error on native and node:crypto', async () => {
    await pair(async (h) => {
      for (const bad of [{ recordId: 7 }, { segment: 7 }, { keyring: 7 }, { recordId: null }]) {
        const items = [
          { value: 'canary-ok', context },
          { value: 'v', context: { ...context, ...bad } as unknown as FieldContext },
        ];
        const viaNative = await outcomeOf(h.native.encryptValues(items));
        const viaNode = await outcomeOf(h['node:crypto'].encryptValues(items));
        expect(viaNative).toMatch(/^KeystrataError CONFIG_INVALID /);
        expect(viaNode).toBe(viaNative);
      }
    });
  });

  it('Precondition: the record id, segment and keyring are strings when given.', async () => {
    await pair(async (h) => {
      const good = await h.native.encryptValue('canary-good', context);
      const [result] = await h.native.decryptValuesSettled([{ ciphertext: good, context: { ...context, recordId: 1n as unknown as string } }]);
      expect(result).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID', message: expect.stringContaining('String(id)') } });
    });
  });
});

/** Node's current shared Buffer pool (the slab small `Buffer.from` / `allocUnsafe` results are cut from). */
const currentPool = (): Buffer => Buffer.from(Buffer.allocUnsafe(1).buffer);

describe('issue 16 §review 4: no plaintext is left in Node’s shared Buffer pool or the plaintext scratch', () => {
  const cases: Array<[string, FieldValue, string]> = [
    ['json', { secret: 'canary-json-pool-7f3a' }, 'canary-json-pool-7f3a'],
    ['number', 987654321.0625, '987654321.0625'],
    ['bigint', 918273645546372819n, '918273645546372819'],
    ['date', new Date('2031-07-19T13:37:42.424Z'), '2031-07-19T13:37:42.424Z'],
    ['bytes', new TextEncoder().encode('canary-bytes-pool-1c9e'), 'canary-bytes-pool-1c9e'], // its own memory: a Buffer.from would be in the pool already
  ];
  it.each(PATHS)('issue 16 §review: (%s) after encryptValues of a JSON, number, bigint, Date or bytes value, its plaintext is in neither', async (path) => {
    await pair(async (h) => {
      for (const [, value, canary] of cases) {
        const before = currentPool();
        await h[path].encryptValues([{ value, context }]);
        for (const pool of [before, currentPool(), plaintextScratch.current]) expect(pool.includes(canary)).toBe(false);
      }
    });
  });

  it('issue 16 §review: encodeFieldValue writes into its own memory (not the pool) and makes no pooled temporary', () => {
    for (const [, value, canary] of cases) {
      const before = currentPool();
      const bytes = encodeFieldValue(value);
      expect(bytes.buffer).not.toBe(Buffer.allocUnsafe(1).buffer);
      expect(bytes.byteOffset).toBe(0);
      expect(bytes.buffer.byteLength).toBe(bytes.length);
      expect(before.includes(canary) || currentPool().includes(canary)).toBe(false);
      bytes.fill(0);
    }
  });
});

describe('issue 16 §review 5: -0 round-trips', () => {
  it.each(PATHS)('issue 16 §review: (%s) -0 decrypts as -0 and 0 as 0', async (path) => {
    await pair(async (h) => {
      const [negative, positive] = await h[path].encryptValues([
        { value: -0, context },
        { value: 0, context },
      ]);
      expect(Object.is(await h.native.decryptValue(negative, context), -0)).toBe(true);
      expect(Object.is(await h['node:crypto'].decryptValue(negative, context), -0)).toBe(true);
      expect(Object.is(await h[path].decryptValue(positive, context), 0)).toBe(true);
    });
  });

  it('issue 16 §review: the n body of -0 is "-0", and the decoder takes exactly what the encoder writes', () => {
    expect(encodeFieldValue(-0).toString('latin1')).toBe('n-0');
    expect(encodeFieldValue(0).toString('latin1')).toBe('n0');
    expect(Object.is(decodeFieldValue(Buffer.from('n-0', 'latin1')), -0)).toBe(true);
    expect(Object.is(decodeFieldValue(Buffer.from('n0', 'latin1')), 0)).toBe(true);
    for (const body of ['n-0.0', 'n+0', 'n0.0', 'n-00', 'n-']) {
      expect(() => decodeFieldValue(Buffer.from(body, 'latin1'))).toThrow(expect.objectContaining({ code: 'CIPHERTEXT_MALFORMED' }));
    }
  });
});

describe('issue 16 §review: guards that passed in the review (kept as regression tests)', () => {
  it.each(PATHS)('issue 16 §review: (%s) a returned Uint8Array survives later batches and is not a view of a bigger buffer holding other plaintexts', async (path) => {
    await pair(async (h) => {
      const bytes = randomBytes(40);
      const texts = await h.native.encryptValues([
        { value: 'canary-neighbour', context },
        { value: bytes, context },
        { value: 'canary-after', context },
      ]);
      const out = await h[path].decryptValues(texts.map((ciphertext) => ({ ciphertext, context })));
      const got = out[1] as Buffer;
      for (let n = 0; n < 3; n++) await h[path].decryptValues(texts.map((ciphertext) => ({ ciphertext, context })));
      expect(Buffer.from(got).equals(bytes)).toBe(true);
      const whole = Buffer.from(got.buffer, 0, got.buffer.byteLength);
      expect(whole.includes('canary-neighbour')).toBe(false);
      expect(whole.includes('canary-after')).toBe(false);
    });
  });

  it.each(PATHS)('issue 16 §review: (%s) each returned Uint8Array has its own memory: no neighbouring raw value shares its ArrayBuffer', async (path) => {
    await pair(async (h) => {
      const texts = await h.native.encryptValues([
        { value: Buffer.from('canary-bytes-first'), context },
        { value: Buffer.from('canary-bytes-second'), context },
      ]);
      const [first, second] = (await h[path].decryptValues(texts.map((ciphertext) => ({ ciphertext, context })))) as Uint8Array[];
      expect(Buffer.from(first!).toString()).toBe('canary-bytes-first');
      expect(first!.byteOffset).toBe(0);
      expect(first!.buffer.byteLength).toBe(first!.byteLength);
      expect(Buffer.from(first!.buffer).includes('canary-bytes-second')).toBe(false);
      expect(Buffer.from(second!.buffer).includes('canary-bytes-first')).toBe(false);
    });
  });

  /** Runs `body` with the native module's `name` function wrapped to capture its input and output buffers. */
  async function capturing(name: 'openBatch' | 'sealBatch', body: (seen: Uint8Array[]) => Promise<void>): Promise<void> {
    const registry = globalThis as unknown as Record<symbol, unknown>;
    const LOADED = Symbol.for('keystrata.native-aead');
    const saved = registry[LOADED];
    const mod = (await loadNativeAead()).module as NativeAeadModule;
    const seen: Uint8Array[] = [];
    const wrapped = (k: never, t: never, i: Uint8Array, o: Uint8Array, s: never) => (seen.push(i, o), mod[name](k, t, i, o, s));
    registry[LOADED] = Promise.resolve({ module: { ...mod, [name]: wrapped } });
    try {
      await body(seen);
    } finally {
      registry[LOADED] = saved;
    }
  }

  it('issue 16 §review: (native) no openBatch buffer holds a plaintext after decryptValues / decryptValuesSettled, also when decryptValues throws mid-way', async () => {
    await capturing('openBatch', async (seen) => {
      await pair(async (h) => {
        const n = BATCH_VALUES * 2 + 3;
        const items = Array.from({ length: n }, (_, i) => ({ value: i % 3 === 0 ? `canary-s-${i}` : i % 3 === 1 ? Buffer.from(`canary-x-${i}`) : { j: `canary-j-${i}` }, context }));
        const texts = await h.native.encryptValues(items);
        const jobs = texts.map((ciphertext) => ({ ciphertext, context }));
        const bad = [...jobs];
        const body = Buffer.from(texts[BATCH_VALUES + 5]!.slice(4), 'base64url');
        body[40]! ^= 1;
        bad[BATCH_VALUES + 5] = { ciphertext: `ks1.${body.toString('base64url')}`, context };
        const settled = await h.native.decryptValuesSettled(bad);
        expect(settled.filter((r) => !r.ok)).toHaveLength(1);
        await expect(h.native.decryptValues(bad)).rejects.toMatchObject({ code: 'CIPHERTEXT_TAMPERED' });
        const values = await h.native.decryptValues(jobs);
        expect(Buffer.from(values[1] as Uint8Array).toString()).toBe('canary-x-1');
        expect(seen.length).toBeGreaterThan(0);
        for (const b of seen) expect(Buffer.from(b.buffer, b.byteOffset, b.byteLength).includes('canary-')).toBe(false);
      });
    });
  });

  it('issue 16 §review: (native) no plaintext stays in the shared seal buffer after a failure mid-chunk (lone surrogate, throwing toJSON or getter, bad recordId)', async () => {
    await capturing('sealBatch', async (seen) => {
      await pair(async (h) => {
        await h.native.encryptValues([{ value: 'warm', context }]);
        const failing: unknown[] = [
          'a\uD800',
          {
            toJSON() {
              throw new Error('boom');
            },
          },
          {
            get x() {
              throw new Error('getter');
            },
          },
        ];
        for (const bad of failing) {
          const items = Array.from({ length: 600 }, (_, i) => ({ value: (i === 500 ? bad : `canary-h-${i}`) as never, context }));
          await expect(h.native.encryptValues(items)).rejects.toBeDefined();
        }
        await expect(
          h.native.encryptValues([
            { value: 'canary-h-rid', context },
            { value: 'x', context: { ...context, recordId: 7 as unknown as string } },
          ]),
        ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
        expect(seen.length).toBeGreaterThan(0);
        for (const b of seen) expect(Buffer.from(b.buffer, b.byteOffset, b.byteLength).includes('canary-h')).toBe(false);
        expect(plaintextScratch.current.includes('canary-h')).toBe(false);
      });
    });
  });
});
