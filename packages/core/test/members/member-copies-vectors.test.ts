import { createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kwpUnwrap } from '../../src/crypto/aes-kwp.js';
import { decodeMemberCopies, encodeMemberCopies, isMemberCopies } from '../../src/root-key/members/member-copies.js';

interface MemberCopiesVector {
  name: string;
  kekHex: string;
  copies: Array<{ member: string; cmkHex: string; wrappedBase64: string }>;
  storedBase64: string;
}
const vectors = (JSON.parse(readFileSync(new URL('../vectors/wrapped-keys.json', import.meta.url), 'utf8')) as { memberCopies: MemberCopiesVector[] }).memberCopies;

/** RFC 3394 unwrap with node:crypto's id-aes256-wrap-pad, independent of Keystrata's own code. */
const nodeUnwrap = (cmk: Buffer, wrapped: Buffer): Buffer => {
  const decipher = createDecipheriv('id-aes256-wrap-pad', cmk, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([decipher.update(wrapped), decipher.final()]);
};

describe('issue 14: the stored container of independent members’ KEK copies (known-answer vectors)', () => {
  it('issue 14 §format: the committed containers are produced byte for byte, parse back to the same copies, and each copy unwraps to the KEK under its member’s CMK', () => {
    expect(vectors.length).toBe(3);
    for (const v of vectors) {
      const copies = v.copies.map((c) => ({ member: c.member, wrapped: Buffer.from(c.wrappedBase64, 'base64') }));
      const stored = Buffer.from(v.storedBase64, 'base64');
      expect(encodeMemberCopies(copies).toString('base64'), v.name).toBe(v.storedBase64);
      expect(isMemberCopies(stored), v.name).toBe(true);
      expect(
        decodeMemberCopies(stored).map((c) => [c.member, c.wrapped.toString('base64')]),
        v.name,
      ).toEqual(v.copies.map((c) => [c.member, c.wrappedBase64]));
      // The layout, read by hand: magic, version, count, then name and copy lengths.
      expect(stored.subarray(0, 6).toString('hex'), v.name).toBe(`4b534d4301${v.copies.length.toString(16).padStart(2, '0')}`);
      for (const c of v.copies) {
        expect(nodeUnwrap(Buffer.from(c.cmkHex, 'hex'), Buffer.from(c.wrappedBase64, 'base64')).toString('hex'), `${v.name} ${c.member}`).toBe(v.kekHex);
        expect(kwpUnwrap(Buffer.from(c.cmkHex, 'hex'), Buffer.from(c.wrappedBase64, 'base64'), 32).exposeSecretBytes().toString('hex')).toBe(v.kekHex);
      }
    }
  });

  it('issue 14 §format: a plain 40-byte wrapped KEK is never taken for a container, and every malformed container is CIPHERTEXT_TAMPERED', () => {
    const stored = Buffer.from(vectors[0]!.storedBase64, 'base64');
    for (const plain of vectors[0]!.copies) expect(isMemberCopies(Buffer.from(plain.wrappedBase64, 'base64'))).toBe(false);
    const bad: Record<string, Buffer> = {
      'version 2': Buffer.concat([stored.subarray(0, 4), Buffer.from([2]), stored.subarray(5)]),
      'count 0': Buffer.concat([stored.subarray(0, 5), Buffer.from([0]), stored.subarray(6)]),
      'count 3 with 2 copies': Buffer.concat([stored.subarray(0, 5), Buffer.from([3]), stored.subarray(6)]),
      truncated: stored.subarray(0, stored.length - 1),
      'trailing byte': Buffer.concat([stored, Buffer.from([0])]),
      'header only': stored.subarray(0, 6),
    };
    const codes = Object.fromEntries(
      Object.entries(bad).map(([name, bytes]) => {
        try {
          decodeMemberCopies(bytes);
          return [name, 'none'];
        } catch (error) {
          return [name, (error as { code: string }).code];
        }
      }),
    );
    expect(codes).toEqual(Object.fromEntries(Object.keys(bad).map((name) => [name, 'CIPHERTEXT_TAMPERED'])));
  });
});
