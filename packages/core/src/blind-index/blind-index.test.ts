import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { KeyHierarchy } from '../hierarchy/key-hierarchy.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';
import { SecretKey } from '../secret/secret-key.js';
import { blindIndexInfo, blindIndexKey, blindIndexOf, checkBlindIndexNames } from './blind-index.js';

/** Names an attacker would try: separators, empty parts, look-alikes, non-ASCII. */
const NAMES = ['', 'a', 'b', 'a\u0000b', '\u0000', 'a\u0000', '\u0000a', 'ab', 'a\u0001b', 'a b', 'é', 'e\u0301', 'keystrata/blind-index/v1', 'User', 'email', 'User\u0000email'];

const accepted = (keyring: string, model: string, field: string): boolean => {
  try {
    checkBlindIndexNames(keyring, model, field);
    return true;
  } catch {
    return false;
  }
};

describe('blind-index key derivation', () => {
  it('issue 11 §5: two different (keyring, model, field) triples can never produce the same HKDF info', () => {
    const seen = new Map<string, string>();
    let acceptedCount = 0;
    for (const keyring of ['default', 'a', 'a.b']) {
      for (const model of NAMES) {
        for (const field of NAMES) {
          if (!accepted(keyring, model, field)) {
            expect(() => blindIndexInfo(keyring, model, field)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
            continue;
          }
          acceptedCount++;
          const info = blindIndexInfo(keyring, model, field);
          const triple = JSON.stringify([keyring, model, field]);
          // Injective: the info splits back into exactly this triple, and no other triple gave these bytes.
          expect(info.toString('utf8').split('\u0000')).toEqual(['keystrata/blind-index/v1', keyring, model, field]);
          expect(seen.get(info.toString('hex')), triple).toBeUndefined();
          seen.set(info.toString('hex'), triple);
        }
      }
    }
    expect(acceptedCount).toBe(3 * 10 * 10); // every name without NUL, non-empty, in every position
  });

  it('Precondition: keyring, model and field contain no NUL (else two fields could share an index key).', () => {
    for (const [keyring, model, field] of [
      ['default', 'User\u0000x', 'email'],
      ['default', 'User', 'x\u0000email'],
      ['a\u0000b', 'User', 'email'],
      ['default', '', 'email'],
    ]) {
      expect(() => blindIndexInfo(keyring!, model!, field!)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
      expect(() => blindIndexKey(SecretKey.takeOwnership(randomBytes(32)), keyring!, model!, field!)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });

  it('issue 11 §5: existing indexes keep their key: the v1 derivation of valid names is unchanged', () => {
    const root = randomBytes(32);
    const key = blindIndexKey(SecretKey.takeOwnership(Buffer.from(root)), 'default', 'Patient', 'email');
    const expected = Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), Buffer.from('keystrata/blind-index/v1\u0000default\u0000Patient\u0000email'), 32));
    expect(key.exposeSecretBytes().equals(expected)).toBe(true);
    expect(blindIndexOf(key, 'ada@example.com')).toMatch(/^bi1\./);
  });

  it('issue 11 §5: an attacker cannot make two fields share an index by moving a NUL between model and field', async () => {
    const rootKey = new SoftwareRootKey();
    const hierarchy = await KeyHierarchy.create({ rootKey, keyStore: new MemoryKeyStore() });
    try {
      await hierarchy.provision();
      // On the old code both names gave the info `…\0default\0User\0a\0email`: one key, equal indexes.
      for (const field of [
        { model: 'User\u0000a', field: 'email' },
        { model: 'User', field: 'a\u0000email' },
      ]) {
        await expect(hierarchy.blindIndex('victim@example.com', field)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      }
      // Also past the batch's scan limit, where groups are found by a NUL-joined key.
      const many = Array.from({ length: 40 }, (_, i) => ({ value: 'v', model: 'M', field: `f${i}` }));
      await hierarchy.blindIndexes([...many, { value: 'v', model: 'M\u0000f1', field: 'x' }, { value: 'v', model: 'M', field: 'f1\u0000x' }]).then(
        () => expect.unreachable('a NUL name was indexed'),
        (error: unknown) => expect(error).toMatchObject({ code: 'CONFIG_INVALID' }),
      );
      const [plain] = await hierarchy.blindIndexes([{ value: 'victim@example.com', model: 'User', field: 'email' }]);
      expect(plain).toMatch(/^bi1\./);
    } finally {
      await hierarchy.close();
    }
  });
});
