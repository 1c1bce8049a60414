import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SecretKey } from './secret-key.js';

describe('SecretKey', () => {
  it('never prints or serialises its bytes', () => {
    const key = SecretKey.takeOwnership(Buffer.from('00112233445566778899aabbccddeeff', 'hex'));
    for (const shown of [inspect(key), JSON.stringify({ key }), String(key), `${key}`]) {
      expect(shown).not.toMatch(/0011|ABEiM|\b17\b/);
    }
    expect(inspect(key)).toBe('SecretKey(16 bytes)');
  });

  it('zero-fills on destroy and refuses later reads', () => {
    const bytes = Buffer.alloc(32, 9);
    const key = SecretKey.takeOwnership(bytes);
    key.destroy();
    expect(bytes.every((b) => b === 0)).toBe(true);
    expect(() => key.exposeSecretBytes()).toThrowError(expect.objectContaining({ code: 'KEY_DESTROYED' }));
    key.destroy();
  });
});
