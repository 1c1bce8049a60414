import { hex, loadWycheproof } from '@keystrata/testing';
import { describe, expect, it } from 'vitest';
import { AeadKey, available, openValues, sealValues } from '../lib/index.mjs';

const fits = (g: { keySize?: number; ivSize?: number; tagSize?: number }) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128;
const cases = loadWycheproof('aes_gcm_test.json')
  .filter(fits)
  .flatMap((g) => g.tests);

describe('issue 16 §correctness: Wycheproof AES-GCM through the native path (every 256-bit key, 96-bit IV, 128-bit tag group)', () => {
  it('the addon is built here (every other test depends on it)', () => {
    expect(available).toBe(true);
  });

  it('issue 16 §correctness: every valid case seals to its ciphertext and tag, and opens, in one batch', () => {
    const valid = cases.filter((t) => t.result === 'valid');
    expect(valid.length).toBe(39);
    const keys = valid.map((t) => new AeadKey(hex(t.key)));
    try {
      const sealed = sealValues(valid.map((t, i) => ({ key: keys[i]!, iv: hex(t.iv), plaintext: hex(t.msg), aad: hex(t.aad) })));
      const opened = openValues(valid.map((t, i) => ({ key: keys[i]!, iv: hex(t.iv), ciphertext: hex(t.ct), tag: hex(t.tag), aad: hex(t.aad) })));
      valid.forEach((t, i) => {
        expect(sealed[i]!.ciphertext.toString('hex'), `tcId ${t.tcId}`).toBe(t.ct);
        expect(sealed[i]!.tag.toString('hex'), `tcId ${t.tcId}`).toBe(t.tag);
        const result = opened[i]!;
        expect(result.ok && result.plaintext.toString('hex'), `tcId ${t.tcId}`).toBe(t.msg);
      });
    } finally {
      for (const key of keys) key.release();
    }
  });

  it('issue 16 §correctness: every invalid case is rejected, alone, in a batch mixed with valid ones', () => {
    const invalid = cases.filter((t) => t.result === 'invalid');
    expect(invalid.length).toBeGreaterThan(10);
    const mixed = cases.filter((t) => t.result !== 'acceptable');
    const keys = mixed.map((t) => new AeadKey(hex(t.key)));
    try {
      const opened = openValues(mixed.map((t, i) => ({ key: keys[i]!, iv: hex(t.iv), ciphertext: hex(t.ct), tag: hex(t.tag), aad: hex(t.aad) })));
      for (const [i, t] of mixed.entries()) expect(opened[i]!.ok, `tcId ${t.tcId} (${t.result})`).toBe(t.result === 'valid');
    } finally {
      for (const key of keys) key.release();
    }
  });

  it('issue 16 §correctness: cases outside 96-bit IV / 128-bit tag are refused at the boundary, before any crypto', () => {
    const outside = loadWycheproof('aes_gcm_test.json')
      .filter((g) => g.keySize === 256 && !fits(g))
      .flatMap((g) => g.tests);
    expect(outside.length).toBeGreaterThan(20);
    const key = new AeadKey(Buffer.alloc(32));
    try {
      for (const t of outside) {
        expect(() => openValues([{ key, iv: hex(t.iv), ciphertext: hex(t.ct), tag: hex(t.tag), aad: hex(t.aad) }]), `tcId ${t.tcId}`).toThrow(/exactly (12|16) bytes/);
      }
    } finally {
      key.release();
    }
  });
});
