import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { hex, loadRfcKeyWrapVectors, loadWycheproof } from '@keystrata/testing';
import { kwpUnwrap, kwpWrap } from './aes-kwp.js';
import { KeystrataError } from '../errors/keystrata-error.js';

const original = Buffer.concat.bind(Buffer);

describe('AES-256-KWP (RFC 5649) against Project Wycheproof', () => {
  const cases = loadWycheproof('aes_kwp_test.json').flatMap((g) => g.tests.map((t) => ({ g, t })));

  it('wraps and unwraps every valid 256-bit case', () => {
    const valid = cases.filter(({ g, t }) => g.keySize === 256 && t.result === 'valid');
    expect(valid.length).toBeGreaterThan(20);
    for (const { t } of valid) {
      expect(kwpWrap(hex(t.key), hex(t.msg)).toString('hex'), `tcId ${t.tcId}`).toBe(t.ct);
      expect(kwpUnwrap(hex(t.key), hex(t.ct)).exposeSecretBytes().toString('hex'), `tcId ${t.tcId}`).toBe(t.msg);
    }
  });

  it('rejects every invalid case and every non-256-bit wrapping key', () => {
    const rejected = cases.filter(({ g, t }) => t.result === 'invalid' || g.keySize !== 256);
    expect(rejected.length).toBeGreaterThan(150);
    for (const { t } of rejected) expect(() => kwpUnwrap(hex(t.key), hex(t.ct)), `tcId ${t.tcId}`).toThrow(KeystrataError);
  });

  it('matches the RFC 5649 examples where the KEK is 256-bit, and refuses the others', () => {
    const kwp = loadRfcKeyWrapVectors().filter((v) => v.alg === 'kwp');
    expect(kwp.length).toBeGreaterThan(0);
    for (const v of kwp) {
      if (v.kek.length === 64) expect(kwpWrap(hex(v.kek), hex(v.keyData)).toString('hex')).toBe(v.wrapped);
      else expect(() => kwpUnwrap(hex(v.kek), hex(v.wrapped))).toThrow(/32-byte wrapping key/);
    }
  });
});

describe('kwp preconditions', () => {
  const kek = Buffer.alloc(32, 3);

  it('Precondition: the wrapping key is AES-256.', () => {
    expect(() => kwpWrap(Buffer.alloc(16), Buffer.alloc(32))).toThrow(/32-byte wrapping key/);
    expect(() => kwpUnwrap(Buffer.alloc(24), Buffer.alloc(40))).toThrow(/32-byte wrapping key/);
  });

  it('Precondition: a wrapped key is a multiple of 8 bytes and at least 16 bytes.', () => {
    // Node 20 "unwraps" an empty input to an empty key; the guard must stop it first.
    expect(() => createCipheriv('id-aes256-wrap-pad', kek, Buffer.from('a65959a6', 'hex'))).not.toThrow();
    for (const length of [0, 8, 15, 17, 39]) {
      expect(() => kwpUnwrap(kek, Buffer.alloc(length)), `length ${length}`).toThrow(/multiple of 8 bytes/);
    }
  });

  it('rejects a wrapped key of the wrong size for the expected key length', () => {
    const wrapped = kwpWrap(kek, Buffer.alloc(16, 1));
    expect(() => kwpUnwrap(kek, wrapped, 32)).toThrow(/must be 40 bytes/);
    expect(kwpUnwrap(kek, kwpWrap(kek, Buffer.alloc(32, 1)), 32).length).toBe(32);
  });

  it('reports a flipped bit in a wrapped key as CIPHERTEXT_TAMPERED', () => {
    const wrapped = kwpWrap(kek, Buffer.alloc(32, 9));
    for (let bit = 0; bit < wrapped.length * 8; bit += 7) {
      const copy = Buffer.from(wrapped);
      copy[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => kwpUnwrap(kek, copy, 32)).toThrowError(expect.objectContaining({ code: 'CIPHERTEXT_TAMPERED' }));
    }
  });

  it('issue 11 §4: every intermediate copy of an unwrapped key is zero-filled, only the returned key holds the bytes', () => {
    const kek = randomBytes(32);
    const key = randomBytes(32);
    const wrapped = kwpWrap(kek, key);
    const seen: Buffer[] = [];
    const concat = vi.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], length?: number) => {
      seen.push(...list.map((part) => part as Buffer));
      return original(list, length);
    });
    let unwrapped: Buffer;
    try {
      unwrapped = Buffer.from(kwpUnwrap(kek, wrapped, 32).exposeSecretBytes());
    } finally {
      concat.mockRestore();
    }
    expect(unwrapped).toEqual(key);
    expect(seen.length).toBeGreaterThan(0);
    for (const part of seen) expect(part.every((b) => b === 0)).toBe(true);
  });
});
