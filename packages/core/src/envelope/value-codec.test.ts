import { describe, expect, it } from 'vitest';
import { decodeFieldValue, encodeFieldValue, writeFieldValue } from './value-codec.js';

describe('field value codec', () => {
  it.each([
    ['string', 'héllo ✓'],
    ['empty string', ''],
    ['number', 42.5],
    ['negative zero free number', -7],
    ['boolean true', true],
    ['boolean false', false],
    ['bigint', 12345678901234567890n],
    ['date', new Date('2024-01-02T03:04:05.678Z')],
    ['json object', { a: [1, 'b'] }],
    ['json array', [1, 2]],
  ])('round-trips a %s with its type', (_, value) => {
    expect(decodeFieldValue(encodeFieldValue(value as never))).toEqual(value);
  });

  it('round-trips bytes', () => {
    expect(Buffer.from(decodeFieldValue(encodeFieldValue(new Uint8Array([0, 1, 255]))) as Uint8Array)).toEqual(Buffer.from([0, 1, 255]));
  });

  it('rejects null, undefined, symbols and invalid dates', () => {
    for (const value of [null, undefined, Symbol('x'), new Date(NaN), () => 1]) {
      expect(() => encodeFieldValue(value as never)).toThrowError(expect.objectContaining({ code: 'PLAINTEXT_REJECTED' }));
    }
  });

  it('rejects an unknown type tag', () => {
    expect(() => decodeFieldValue(Buffer.from('?abc'))).toThrowError(expect.objectContaining({ code: 'CIPHERTEXT_MALFORMED' }));
  });

  it('issue 11 §4: a body that does not match its tag is CIPHERTEXT_MALFORMED without the plaintext', () => {
    for (const bytes of ['j{"CANARY', 'i1CANARY', 'nCANARY', 'b', 'bCANARY', 'dCANARY']) {
      let error: unknown;
      try {
        decodeFieldValue(Buffer.from(bytes));
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'CIPHERTEXT_MALFORMED' });
      expect(String((error as Error).message)).not.toContain('CANARY');
      expect((error as Error).cause).toBeUndefined();
    }
  });

  it('issue 11 §5: strings with lone UTF-16 surrogates are refused on write (PLAINTEXT_REJECTED), paired ones round-trip', () => {
    for (const value of ['a\uD800', '\uDC00b', 'x\uDBFFy']) {
      expect(() => encodeFieldValue(value)).toThrowError(expect.objectContaining({ code: 'PLAINTEXT_REJECTED' }));
      expect(() => writeFieldValue(value)).toThrowError(expect.objectContaining({ code: 'PLAINTEXT_REJECTED' }));
    }
    expect(decodeFieldValue(encodeFieldValue('emoji \uD83D\uDE00'))).toBe('emoji \uD83D\uDE00');
    expect(decodeFieldValue(encodeFieldValue({ k: '\uD800' }))).toEqual({ k: '\uD800' }); // JSON escapes it losslessly
  });
});
