import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kwpWrap } from '../crypto/aes-kwp.js';
import { BOUND_DEK_PREFIX, dekWrapAad, isLegacyWrappedDek, unwrapDek, wrapDek, type DekIdentity } from './dek-wrap.js';
import { lengthPrefixed } from './identity-bytes.js';
import { kekBinding, kekBindingMatches } from './kek-binding.js';

const identity: DekIdentity = { id: 'a'.repeat(32), keyring: 'default', segment: 'tenant:a', version: 1, kekVersion: 2 };
const accept = { legacy: 'accept' } as const;
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe('bound wrapped DEKs (k2)', () => {
  it('issue 11 §2: wraps and unwraps a DEK under its identity, in the documented layout', () => {
    const kek = randomBytes(32);
    const dek = randomBytes(32);
    const wrapped = wrapDek(kek, dek, identity);
    expect(wrapped.startsWith(BOUND_DEK_PREFIX)).toBe(true);
    expect(Buffer.from(wrapped.slice(3), 'base64')).toHaveLength(12 + 32 + 16);
    expect(isLegacyWrappedDek(wrapped)).toBe(false);
    expect(unwrapDek(kek, wrapped, identity, accept).exposeSecretBytes()).toEqual(dek);
  });

  it('issue 11 §2: any change of keyring, segment, id, version or KEK version is KEYSTORE_TAMPERED', () => {
    const kek = randomBytes(32);
    const wrapped = wrapDek(kek, randomBytes(32), identity);
    for (const change of [{ keyring: 'other' }, { segment: 'tenant:b' }, { id: 'b'.repeat(32) }, { version: 2 }, { kekVersion: 1 }]) {
      expect(codeOf(() => unwrapDek(kek, wrapped, { ...identity, ...change }, accept))).toBe('KEYSTORE_TAMPERED');
    }
    expect(codeOf(() => unwrapDek(randomBytes(32), wrapped, identity, accept))).toBe('KEYSTORE_TAMPERED');
  });

  it('issue 11 §2: the AAD length-prefixes every name, so shifting bytes between names changes it', () => {
    expect(dekWrapAad({ ...identity, keyring: 'ab', segment: 'c' })).not.toEqual(dekWrapAad({ ...identity, keyring: 'a', segment: 'bc' }));
    expect(lengthPrefixed('d', 'x', 1)).toEqual(Buffer.concat([Buffer.from('d'), Buffer.from([0, 0, 0, 1]), Buffer.from('x'), Buffer.from([0, 0, 0, 1])]));
  });

  it('issue 11 §2: a legacy RFC 5649 blob is read when accepted and refused with KEYSTORE_TAMPERED when not', () => {
    const kek = randomBytes(32);
    const dek = randomBytes(32);
    const legacy = kwpWrap(kek, dek).toString('base64');
    expect(isLegacyWrappedDek(legacy)).toBe(true);
    expect(unwrapDek(kek, legacy, identity, accept).exposeSecretBytes()).toEqual(dek);
    expect(codeOf(() => unwrapDek(kek, legacy, identity, { legacy: 'refuse' }))).toBe('KEYSTORE_TAMPERED');
    expect(codeOf(() => unwrapDek(randomBytes(32), legacy, identity, accept))).toBe('KEYSTORE_TAMPERED');
  });

  it('Precondition: a DEK is 32 bytes and a KEK is 32 bytes.', () => {
    expect(codeOf(() => wrapDek(randomBytes(32), randomBytes(16), identity))).toBe('CONFIG_INVALID');
    expect(codeOf(() => wrapDek(randomBytes(16), randomBytes(32), identity))).toBe('CONFIG_INVALID');
  });

  it('Precondition: a bound wrapped DEK is iv ‖ 32-byte ciphertext ‖ tag.', () => {
    const kek = randomBytes(32);
    const wrapped = wrapDek(kek, randomBytes(32), identity);
    expect(codeOf(() => unwrapDek(kek, wrapped.slice(0, -4), identity, accept))).toBe('KEYSTORE_TAMPERED');
    expect(codeOf(() => unwrapDek(kek, BOUND_DEK_PREFIX, identity, accept))).toBe('KEYSTORE_TAMPERED');
  });
});

describe('KEK bindings', () => {
  it('issue 11 §2: a binding matches only its KEK, keyring and version', () => {
    const kek = randomBytes(32);
    const binding = kekBinding(kek, 'default', 3);
    expect(binding).toMatch(/^b1\./);
    expect(kekBindingMatches(kek, 'default', 3, binding)).toBe(true);
    expect(kekBindingMatches(kek, 'default', 2, binding)).toBe(false);
    expect(kekBindingMatches(kek, 'other', 3, binding)).toBe(false);
    expect(kekBindingMatches(randomBytes(32), 'default', 3, binding)).toBe(false);
    expect(kekBindingMatches(kek, 'default', 3, '')).toBe(false);
  });
});
