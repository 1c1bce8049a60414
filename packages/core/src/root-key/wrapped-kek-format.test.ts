import { describe, expect, it } from 'vitest';
import { KeystrataError } from '../errors/keystrata-error.js';
import { assertWrappedKekLength } from './wrapped-kek-length.js';
import { CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD, encodeWrappedKek, parseWrappedKek } from './wrapped-kek-format.js';

const codeOf = (run: () => unknown): string => {
  try {
    run();
    return 'none';
  } catch (error) {
    return KeystrataError.isInstance(error) ? error.code : `untyped: ${String(error)}`;
  }
};
const header = (mechanism: number, version = 1): Buffer => {
  const bytes = Buffer.from([0x6b, 0x77, version, 0, 0, 0, 0]);
  bytes.writeUInt32BE(mechanism, 3);
  return bytes;
};

describe('wrapped KEK format (issue 14 §portability)', () => {
  it('Precondition: a wrapped KEK without the `kw` header is a legacy 40-byte RFC 5649 blob.', () => {
    const legacy = Buffer.alloc(40, 7);
    expect(parseWrappedKek(legacy)).toEqual({ mechanism: CKM_AES_KEY_WRAP_PAD, body: legacy, legacy: true });
    for (const length of [0, 8, 32, 39, 41, 48, 56])
      expect(
        codeOf(() => parseWrappedKek(Buffer.alloc(length, 7))),
        `${length} bytes`,
      ).toBe('CIPHERTEXT_TAMPERED');
  });

  it("Precondition: a wrapped KEK's body has a length its mechanism promises for a 32-byte key.", () => {
    expect(parseWrappedKek(Buffer.concat([header(CKM_AES_KEY_WRAP), Buffer.alloc(40)])).mechanism).toBe(CKM_AES_KEY_WRAP);
    expect(parseWrappedKek(Buffer.concat([header(CKM_AES_KEY_WRAP_PAD), Buffer.alloc(40)])).mechanism).toBe(CKM_AES_KEY_WRAP_PAD);
    expect(parseWrappedKek(Buffer.concat([header(CKM_AES_KEY_WRAP_PAD), Buffer.alloc(48)])).body.length).toBe(48);
    for (const [mechanism, length] of [
      [CKM_AES_KEY_WRAP, 48],
      [CKM_AES_KEY_WRAP, 32],
      [CKM_AES_KEY_WRAP, 0],
      [CKM_AES_KEY_WRAP_PAD, 56],
      [CKM_AES_KEY_WRAP_PAD, 24],
    ] as const) {
      expect(
        codeOf(() => parseWrappedKek(Buffer.concat([header(mechanism), Buffer.alloc(length)]))),
        `${mechanism}/${length}`,
      ).toBe('CIPHERTEXT_TAMPERED');
    }
  });

  it('issue 14 §portability: an unknown format version or mechanism is CIPHERTEXT_TAMPERED, never guessed', () => {
    expect(codeOf(() => parseWrappedKek(Buffer.concat([header(CKM_AES_KEY_WRAP, 2), Buffer.alloc(40)])))).toBe('CIPHERTEXT_TAMPERED');
    expect(codeOf(() => parseWrappedKek(Buffer.concat([header(0x1081), Buffer.alloc(40)])))).toBe('CIPHERTEXT_TAMPERED'); // CKM_AES_ECB
    expect(codeOf(() => parseWrappedKek(Buffer.concat([header(0x2109 + 0x10000), Buffer.alloc(40)])))).toBe('CIPHERTEXT_TAMPERED');
    expect(codeOf(() => assertWrappedKekLength(Buffer.alloc(47)))).toBe('CIPHERTEXT_TAMPERED');
    expect(codeOf(() => parseWrappedKek('not bytes' as unknown as Buffer))).toBe('CIPHERTEXT_TAMPERED');
  });

  it('issue 14 §portability: encodeWrappedKek writes kw ‖ 1 ‖ u32 mechanism ‖ body and refuses a length no module returns', () => {
    const body = Buffer.alloc(40, 0xab);
    const encoded = encodeWrappedKek(CKM_AES_KEY_WRAP, body);
    expect(encoded.subarray(0, 7).toString('hex')).toBe('6b770100002109');
    expect(parseWrappedKek(encoded)).toEqual({ mechanism: CKM_AES_KEY_WRAP, body, legacy: false });
    expect(encodeWrappedKek(CKM_AES_KEY_WRAP_PAD, Buffer.alloc(48)).length).toBe(55);
    expect(codeOf(() => encodeWrappedKek(CKM_AES_KEY_WRAP, Buffer.alloc(48)))).toBe('HSM_MODULE_INCOMPATIBLE');
  });
});
