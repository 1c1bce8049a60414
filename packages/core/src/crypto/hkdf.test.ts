import { describe, expect, it } from 'vitest';
import { hex, loadWycheproof } from '@keystrata/testing';
import { hkdfSha256 } from './hkdf.js';

describe('HKDF-SHA256 against Project Wycheproof', () => {
  const cases = loadWycheproof('hkdf_sha256_test.json').flatMap((g) => g.tests);

  it('derives every valid case', () => {
    const valid = cases.filter((t) => t.result === 'valid');
    expect(valid.length).toBe(83);
    for (const t of valid) expect(hkdfSha256(hex(t.ikm), hex(t.salt), hex(t.info), Number(t.size)).toString('hex'), `tcId ${t.tcId}`).toBe(t.okm);
  });

  it('rejects every invalid case', () => {
    const invalid = cases.filter((t) => t.result === 'invalid');
    expect(invalid.length).toBe(3);
    for (const t of invalid) expect(() => hkdfSha256(hex(t.ikm), hex(t.salt), hex(t.info), Number(t.size)), `tcId ${t.tcId}`).toThrow();
  });

  it('Precondition: 1 ≤ length ≤ 8160 bytes.', () => {
    expect(() => hkdfSha256(Buffer.alloc(32), Buffer.alloc(0), Buffer.alloc(0), 0)).toThrow(/output length/);
    expect(() => hkdfSha256(Buffer.alloc(32), Buffer.alloc(0), Buffer.alloc(0), 8161)).toThrow(/output length/);
    expect(hkdfSha256(Buffer.alloc(32), Buffer.alloc(0), Buffer.alloc(0), 8160).length).toBe(8160);
  });
});
