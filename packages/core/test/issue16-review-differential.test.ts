import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { FieldContext } from '../src/envelope/field-context.js';
import type { FieldValue } from '../src/envelope/value-codec.js';
import { pair } from './aead-pair.js';

let seed = 0x1234567;
const rnd = (n: number) => {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed % n;
};
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
const strs = ['', 'a', 'Zoë 𝄞', 'é'.repeat(50), 'x'.repeat(3000), '日本語', '\u0000', 'canary'];
function value(): FieldValue {
  switch (rnd(8)) {
    case 0:
      return pick(strs) + rnd(1000);
    case 1:
      return rnd(2) ? rnd(1e6) / 7 : -rnd(100); // -rnd(100) is -0 one time in 100
    case 2:
      return rnd(2) === 1;
    case 3:
      return BigInt(rnd(1e9)) * 12345678901n;
    case 4:
      return new Date(rnd(2e9) * 1000);
    case 5:
      return randomBytes(rnd(60));
    case 6:
      return { a: [rnd(10), pick(strs)], b: 'lone \uD800 in json' };
    default:
      return 'v'.repeat(rnd(200));
  }
}
const contexts: FieldContext[] = [
  { model: 'Patient', field: 'ssn', recordId: 'p1', segment: 's1' },
  { model: 'Patient', field: 'ssn', segment: 's1' },
  { model: 'Pätient', field: 'ß', recordId: 'é-1', segment: 's2' },
  { model: 'M'.repeat(300), field: 'f', recordId: 'r'.repeat(500), segment: 's2' },
  { model: '日本', field: '𝄞', recordId: '𝄞', segment: 's1' },
];
function mutate(text: string, i: number): { ciphertext: unknown; context: FieldContext } {
  const ctx = contexts[i % contexts.length]!;
  const body = text.slice(4);
  const k = rnd(body.length);
  switch (rnd(14)) {
    case 0: {
      const b = Buffer.from(body, 'base64url');
      b[rnd(b.length)]! ^= 1 << rnd(8);
      return { ciphertext: `ks1.${b.toString('base64url')}`, context: ctx };
    }
    case 1:
      return { ciphertext: text.slice(0, 4 + rnd(body.length)), context: ctx };
    case 2:
      return { ciphertext: text + pick(['=', 'A', 'AA', '==', '\n', ' ', '.']), context: ctx };
    case 3:
      return { ciphertext: `ks1.${body.slice(0, k)}${pick(['+', '/', '=', '!', ' ', '\u00e9', '\u0141', '\uD800'])}${body.slice(k + 1)}`, context: ctx };
    case 4:
      return { ciphertext: text, context: contexts[(i + 1 + rnd(4)) % contexts.length]! };
    case 5:
      return { ciphertext: text, context: { ...ctx, recordId: undefined } };
    case 6:
      return { ciphertext: pick([42, null, undefined, 'plaintext', 'ks1.', 'ks1', `KS1.${body}`]), context: ctx };
    case 7: {
      const b = Buffer.from(body, 'base64url');
      b[2 + rnd(16)]! ^= 1 << rnd(8);
      return { ciphertext: `ks1.${b.toString('base64url')}`, context: ctx };
    }
    case 8: {
      const b = Buffer.from(body, 'base64url');
      b[0] = rnd(4);
      b[1] = rnd(4);
      return { ciphertext: `ks1.${b.toString('base64url')}`, context: ctx };
    }
    case 9:
      return { ciphertext: text, context: { ...ctx, segment: 'other' } };
    case 10:
      return { ciphertext: text, context: { ...ctx, keyring: 'nope' } };
    default:
      return { ciphertext: text, context: ctx };
  }
}
const norm = (r: { ok: boolean; value?: unknown; error?: { code: string; message: string } }) =>
  r.ok ? { ok: true, v: inspect(r.value, { depth: 5, maxStringLength: Infinity, maxArrayLength: Infinity }) } : { ok: false, code: r.error!.code, message: r.error!.message };

// Issue 16 §review: the reviewer's differential test of the two AEAD paths, kept as a regression guard.
describe('issue 16 §review: native vs node:crypto differential', () => {
  it('issue 16 §review: 12,000 random cases incl. errors give the same settled outcomes and the same first error; no changed text opens; -0 round-trips', async () => {
    await pair(async ({ native, 'node:crypto': node }) => {
      const N = 12_000;
      const items = Array.from({ length: N }, (_, i) => ({ value: value(), context: contexts[i % contexts.length]! }));
      const sealedNative = await native.encryptValues(items);
      const sealedNode = await node.encryptValues(items.slice(0, 3000));
      const jobs = sealedNative.map((t, i) => mutate(t, i));
      jobs.push(...sealedNode.map((ciphertext, i) => ({ ciphertext, context: items[i]!.context })));
      const a = (await native.decryptValuesSettled(jobs)).map(norm);
      const b = (await node.decryptValuesSettled(jobs)).map(norm);
      let diffs = 0;
      for (let i = 0; i < a.length; i++) if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) diffs++;
      expect(diffs).toBe(0);
      for (let s = 0; s < 40; s++) {
        const slice = jobs.slice(rnd(N), rnd(N) + 2000);
        const ea = await native.decryptValues(slice).then(
          () => 'ok',
          (e: { code?: string; message: string }) => `${e.code} ${e.message}`,
        );
        const eb = await node.decryptValues(slice).then(
          () => 'ok',
          (e: { code?: string; message: string }) => `${e.code} ${e.message}`,
        );
        expect(ea).toBe(eb);
      }
      // Opened values equal the sealed ones (-0 included).
      const roundtrip = await node.decryptValues(sealedNative.map((ciphertext, i) => ({ ciphertext, context: items[i]!.context })));
      const bad = roundtrip.map((v, i) => [i, inspect(v, { depth: 5 }), inspect(items[i]!.value, { depth: 5 })] as const).filter(([, x, y]) => x !== y);
      expect(bad).toEqual([]);
      // A changed text never opens.
      const forgedOk = jobs.slice(0, N).filter((j, i) => j.ciphertext !== sealedNative[i] && a[i]!.ok);
      expect(forgedOk).toEqual([]);
    });
  }, 120_000);
});
