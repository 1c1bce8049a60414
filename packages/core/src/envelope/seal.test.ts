import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeystrataError } from '../errors/keystrata-error.js';
import { decodeEnvelope } from './envelope-format.js';
import type { FieldContext } from './field-context.js';
import { plaintextScratch } from './scratch.js';
import { openEnvelope, openText, sealEnvelope, sealValue } from './seal.js';
import { decodeFieldValue, encodeFieldValue, type FieldValue } from './value-codec.js';

const key = randomBytes(32);
const dekId = randomBytes(16).toString('hex');
const context: FieldContext = { model: 'Patient', field: 'ssn', recordId: 'p1', segment: 's' };
const code = (fn: () => unknown) => {
  try {
    fn();
    return 'none';
  } catch (e) {
    return KeystrataError.isInstance(e) ? e.code : 'untyped';
  }
};
const values: FieldValue[] = ['canary-123', '', 'Zoë 𝄞 paired surrogates only (lone ones are refused on write)', 'x'.repeat(5000), 42, true, 10n, new Date(0), Buffer.from([1, 2]), { a: [1, 'b'] }];
const contexts: FieldContext[] = [context, { model: 'Patient', field: 'ssn' }, { model: 'M'.repeat(2000), field: 'ƒield', recordId: 'r'.repeat(700) }];

describe('sealValue and openText (the allocation-free hot path)', () => {
  it('produces exactly the bytes of encodeFieldValue + sealEnvelope, for every value type and size', () => {
    for (const value of values) {
      for (const ctx of contexts) {
        const iv = randomBytes(12);
        expect(sealValue(key, dekId, iv, value, ctx)).toBe(sealEnvelope(key, dekId, iv, encodeFieldValue(value), ctx));
      }
    }
  });

  it('opens what sealEnvelope made, with the same result as decodeEnvelope + openEnvelope', () => {
    for (const value of values) {
      for (const ctx of contexts) {
        const text = sealEnvelope(key, dekId, randomBytes(12), encodeFieldValue(value), ctx);
        expect(openText(key, text, ctx)).toEqual(openEnvelope(key, decodeEnvelope(text), ctx));
        expect(decodeFieldValue(openText(key, text, ctx))).toEqual(decodeFieldValue(encodeFieldValue(value)));
      }
    }
  });

  it('zero-fills the plaintext scratch after sealing', () => {
    sealValue(key, dekId, randomBytes(12), 'canary-zero-fill', context);
    expect(plaintextScratch.current.includes('canary-zero-fill')).toBe(false);
  });

  it('Precondition: the DEK id is 32 hex characters.', () => {
    for (const id of [dekId.slice(2), `${dekId}ab`, `zz${dekId.slice(2)}`]) {
      expect(code(() => sealValue(key, id, randomBytes(12), 'v', context))).toBe('CONFIG_INVALID');
    }
  });

  it('rejects every truncation and every flipped bit, never returning plaintext', () => {
    const text = sealValue(key, dekId, randomBytes(12), 'canary-123', context);
    for (let n = 0; n < text.length; n++) {
      expect(['CIPHERTEXT_MALFORMED', 'CIPHERTEXT_TAMPERED'], `length ${n}`).toContain(code(() => openText(key, text.slice(0, n), context)));
    }
    const body = Buffer.from(text.slice(4), 'base64url');
    for (let bit = 0; bit < body.length * 8; bit++) {
      const copy = Buffer.from(body);
      copy[bit >> 3]! ^= 1 << (bit & 7);
      expect(['CIPHERTEXT_MALFORMED', 'CIPHERTEXT_TAMPERED'], `bit ${bit}`).toContain(code(() => openText(key, `ks1.${copy.toString('base64url')}`, context)));
    }
  });

  it('fails with another model, field or record id, or without the record id it was bound to', () => {
    const text = sealValue(key, dekId, randomBytes(12), 'canary-123', context);
    for (const ctx of [
      { ...context, model: 'Other' },
      { ...context, field: 'dob' },
      { ...context, recordId: 'p2' },
      { ...context, recordId: undefined },
    ]) {
      expect(code(() => openText(key, text, ctx))).toBe('CIPHERTEXT_TAMPERED');
    }
  });
});
