import { describe, expect, it } from 'vitest';
import { hex, loadWycheproof } from '@keystrata/testing';
import { gcmOpen, gcmSeal } from './aes-gcm.js';
import { KeystrataError } from '../errors/keystrata-error.js';

const groups = loadWycheproof('aes_gcm_test.json');
const fits = (g: { keySize?: number; ivSize?: number; tagSize?: number }) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128;

describe('AES-256-GCM against Project Wycheproof', () => {
  const cases = groups.flatMap((g) => g.tests.map((t) => ({ g, t })));

  it('accepts every valid case that fits 256-bit key, 96-bit IV, 128-bit tag, both ways', () => {
    const valid = cases.filter(({ g, t }) => fits(g) && t.result === 'valid');
    expect(valid.length).toBe(39);
    for (const { t } of valid) {
      const sealed = gcmSeal(hex(t.key), hex(t.iv), hex(t.msg), hex(t.aad));
      expect(sealed.ciphertext.toString('hex'), `tcId ${t.tcId}`).toBe(t.ct);
      expect(sealed.tag.toString('hex'), `tcId ${t.tcId}`).toBe(t.tag);
      expect(gcmOpen(hex(t.key), hex(t.iv), hex(t.ct), hex(t.tag), hex(t.aad)).toString('hex'), `tcId ${t.tcId}`).toBe(t.msg);
    }
  });

  it('rejects every invalid case (and every case outside its parameters) with a typed error', () => {
    const rejected = cases.filter(({ g, t }) => t.result === 'invalid' || !fits(g));
    expect(rejected.length).toBeGreaterThan(200);
    for (const { t } of rejected) {
      expect(() => gcmOpen(hex(t.key), hex(t.iv), hex(t.ct), hex(t.tag), hex(t.aad)), `tcId ${t.tcId}`).toThrow(KeystrataError);
    }
  });
});

describe('gcm preconditions', () => {
  const key = Buffer.alloc(32, 7);
  const iv = Buffer.alloc(12, 1);

  it('Precondition: the key is 256 bits and the IV 96 bits; nothing else is ever accepted.', () => {
    expect(() => gcmSeal(Buffer.alloc(16), iv, Buffer.from('x'), Buffer.alloc(0))).toThrow(/32-byte key/);
    expect(() => gcmSeal(key, Buffer.alloc(16), Buffer.from('x'), Buffer.alloc(0))).toThrow(/96 bits/);
    expect(() => gcmOpen(key, Buffer.alloc(8), Buffer.alloc(1), Buffer.alloc(16), Buffer.alloc(0))).toThrow(/96 bits/);
  });

  it('Precondition: the tag is exactly 128 bits (OpenSSL would otherwise accept a 4-byte tag).', () => {
    const { ciphertext, tag } = gcmSeal(key, iv, Buffer.from('secret'), Buffer.alloc(0));
    expect(() => gcmOpen(key, iv, ciphertext, tag.subarray(0, 4), Buffer.alloc(0))).toThrow(/128 bits/);
    expect(gcmOpen(key, iv, ciphertext, tag, Buffer.alloc(0)).toString()).toBe('secret');
  });

  it('zero-fills nothing-but-garbage and throws CIPHERTEXT_TAMPERED on a bad tag', () => {
    const { ciphertext, tag } = gcmSeal(key, iv, Buffer.from('secret'), Buffer.from('aad'));
    tag[0]! ^= 1;
    const error = (() => {
      try {
        gcmOpen(key, iv, ciphertext, tag, Buffer.from('aad'));
      } catch (e) {
        return e;
      }
    })();
    expect(KeystrataError.isInstance(error, 'CIPHERTEXT_TAMPERED')).toBe(true);
  });
});
