import { describe, expect, it } from 'vitest';
import { loadNativeAead, type NativeAeadModule } from '../crypto/native-aead.js';
import { BATCH_VALUES } from '../envelope/batch-seal.js';
import { openJobs } from '../envelope/batch-open.js';
import { sealJobs } from '../envelope/batch-seal.js';
import type { FieldContext } from '../envelope/field-context.js';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';
import { SecretKey } from '../secret/secret-key.js';
import { KeyHierarchy } from './key-hierarchy.js';
import { randomBytes } from 'node:crypto';

const native = (await loadNativeAead()).module as NativeAeadModule;
const context: FieldContext = { model: 'Patient', field: 'ssn', recordId: 'p1', segment: 'tenant:a' };
const PATHS = ['native', 'node:crypto'] as const;

async function withHierarchy<T>(aead: (typeof PATHS)[number], run: (hierarchy: KeyHierarchy) => Promise<T>): Promise<T> {
  const hierarchy = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore(), aead });
  try {
    await hierarchy.provision();
    return await run(hierarchy);
  } finally {
    await hierarchy.close();
  }
}

/** `text` with one bit of its binary body flipped (a byte index from the start of the body). */
function flip(text: string, byte: number): string {
  const body = Buffer.from(text.slice(4), 'base64url');
  body[byte]! ^= 0x01;
  return `ks1.${body.toString('base64url')}`;
}

describe('issue 16 §first-error: decryptValues throws the first failing item, on both paths', () => {
  it.each(PATHS)('issue 16 §first-error (%s): a tampered item before a malformed one throws the tampered one, within a chunk and across chunks', async (aead) => {
    await withHierarchy(aead, async (hierarchy) => {
      const good = await hierarchy.encryptValue('canary-123', context);
      const tampered = flip(good, 40); // a ciphertext byte: the tag fails
      const read = (texts: string[]) => hierarchy.decryptValues(texts.map((ciphertext) => ({ ciphertext, context })));
      // On the old native path the malformed item won (its error surfaced while packing, before any tag was checked).
      await expect(read([tampered, 'ks1.!!', good])).rejects.toMatchObject({ code: 'CIPHERTEXT_TAMPERED', message: expect.stringContaining('authentication tag') });
      await expect(read([good, 'ks1.!!', tampered])).rejects.toMatchObject({ code: 'CIPHERTEXT_MALFORMED' });
      const many = Array.from({ length: BATCH_VALUES + 600 }, () => good);
      many[BATCH_VALUES + 100] = tampered;
      many[BATCH_VALUES + 200] = 'plaintext';
      await expect(read(many)).rejects.toMatchObject({ code: 'CIPHERTEXT_TAMPERED' });
      many[3] = 'plaintext';
      await expect(read(many)).rejects.toMatchObject({ code: 'CIPHERTEXT_MALFORMED' });
    });
  });
});

describe('issue 16 §decode-once: each envelope is decoded once, its DEK found from its own header', () => {
  it.each(PATHS)('issue 16 §decode-once (%s, as the attacker): a header naming a DEK one bit away from its neighbour’s is looked up on its own, also across a chunk boundary', async (aead) => {
    await withHierarchy(aead, async (hierarchy) => {
      const good = await hierarchy.encryptValue('canary-123', context);
      // Bytes 2–17 are the DEK id: flip its first and its last bit.
      const forged = [flip(good, 2), flip(good, 17)];
      const texts = [good, forged[0]!, good, forged[1]!, ...Array.from({ length: BATCH_VALUES - 5 }, () => good), forged[1]!, forged[1]!, good];
      const results = await hierarchy.decryptValuesSettled(texts.map((ciphertext) => ({ ciphertext, context })));
      const forgedAt = [1, 3, BATCH_VALUES - 1, BATCH_VALUES];
      expect(texts).toHaveLength(BATCH_VALUES + 2);
      for (const [i, result] of results.entries()) {
        if (forgedAt.includes(i)) {
          expect(result).toMatchObject({ ok: false, error: { code: 'CIPHERTEXT_TAMPERED', message: expect.stringContaining('not in this key store') } });
        } else {
          expect(result).toEqual({ ok: true, value: 'canary-123' });
        }
      }
    });
  });
});

describe('issue 16 §in-place: values are sealed and opened in place in the batch buffer, which is wiped', () => {
  /** The addon with its batch calls recording the buffers they were given. */
  function watched(): { aead: NativeAeadModule; buffers: Uint8Array[] } {
    const buffers: Uint8Array[] = [];
    const aead: NativeAeadModule = {
      ...native,
      sealBatch: (keys, table, input, output, status) => (buffers.push(input, output), native.sealBatch(keys, table, input, output, status)),
      openBatch: (keys, table, input, output, status) => (buffers.push(input, output), native.openBatch(keys, table, input, output, status)),
    };
    return { aead, buffers };
  }
  const key = { key: SecretKey.takeOwnership(randomBytes(32)), dekId: randomBytes(16).toString('hex') };
  const holds = (buffer: Uint8Array, text: string) => Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength).includes(text);

  it('issue 16 §in-place (as the attacker reading the process memory): after a seal, an open and a seal that failed half way, no batch buffer holds a plaintext', async () => {
    const { aead, buffers } = watched();
    const jobs = [
      { value: 'canary-seal-ascii', context },
      { value: 'canary-séal-ünicode', context },
      { value: { canary: 'canary-json' }, context },
    ];
    const sealed = await sealJobs(aead, jobs, () => key);
    const outcomes: unknown[] = [];
    await openJobs(
      aead,
      sealed.map((ciphertext) => ({ ciphertext, context })),
      () => key.key,
      { value: (i, v) => void (outcomes[i] = v), error: (i, e) => void (outcomes[i] = e.code) },
    );
    expect(outcomes).toEqual(jobs.map((job) => job.value));
    // A batch that fails after packing a value: the lone surrogate is refused, the packed canary wiped.
    await expect(
      sealJobs(
        aead,
        [
          { value: 'canary-half-way', context },
          { value: 'a\uD800', context },
        ],
        () => key,
      ),
    ).rejects.toMatchObject({ code: 'PLAINTEXT_REJECTED' });
    // …and one whose size cannot be computed (a record id that is not a string): refused, the packed canary wiped.
    for (const recordId of [5, { length: Number.NaN }]) {
      const badContext = { ...context, recordId: recordId as unknown as string };
      await expect(
        sealJobs(
          aead,
          [
            { value: 'canary-bad-context', context },
            { value: 'x', context: badContext },
          ],
          () => key,
        ),
      ).rejects.toThrow();
    }
    expect(buffers.length).toBe(4);
    for (const buffer of buffers) {
      for (const canary of ['canary-seal-ascii', 'canary-séal-ünicode', 'canary-json', 'canary-half-way', 'canary-bad-context']) expect(holds(buffer, canary)).toBe(false);
    }
  });
});

describe('issue 16 §snapshot: a batch works on the items it was called with', () => {
  it.each(PATHS)(
    'issue 16 §snapshot (%s): a caller that changes its array while the batch awaits its keys gets the values of the items it passed (decrypt, settled decrypt, encrypt)',
    async (aead) => {
      await withHierarchy(aead, async (hierarchy) => {
        const texts = await hierarchy.encryptValues([
          { value: 'one', context },
          { value: 'two', context },
        ]);
        hierarchy.clearCache();
        const items = texts.map((ciphertext) => ({ ciphertext, context }));
        const reading = hierarchy.decryptValues(items);
        items.push({ ciphertext: texts[0]!, context });
        items.reverse();
        expect(await reading).toEqual(['one', 'two']);

        hierarchy.clearCache();
        const settledItems = texts.map((ciphertext) => ({ ciphertext, context }));
        const settled = hierarchy.decryptValuesSettled(settledItems);
        settledItems.splice(0, 2, { ciphertext: 'ks1.not-an-envelope', context });
        expect((await settled).map((result) => (result.ok ? result.value : result.error.code))).toEqual(['one', 'two']);

        hierarchy.clearCache();
        const writes = [
          { value: 'a', context },
          { value: 'b', context },
        ];
        const sealing = hierarchy.encryptValues(writes);
        writes.length = 0;
        const sealed = await sealing;
        expect(await hierarchy.decryptValues(sealed.map((ciphertext) => ({ ciphertext, context })))).toEqual(['a', 'b']);
      });
    },
  );
});
