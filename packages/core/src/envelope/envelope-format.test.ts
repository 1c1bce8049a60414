import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, encodeHeader, ENVELOPE_PREFIX, FLAG_RECORD_BOUND, isEnvelope } from './envelope-format.js';
import { openEnvelope, sealEnvelope } from './seal.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { FieldContext } from './field-context.js';

const key = randomBytes(32);
const dekId = randomBytes(16).toString('hex');
const context: FieldContext = { model: 'Patient', field: 'ssn', recordId: 'p1', segment: 's' };
const seal = (plaintext = 'canary-123', ctx = context) => sealEnvelope(key, dekId, randomBytes(12), Buffer.from(plaintext), ctx);
const code = (fn: () => unknown) => {
  try {
    fn();
    return 'none';
  } catch (e) {
    return KeystrataError.isInstance(e) ? e.code : 'untyped';
  }
};

describe('envelope format', () => {
  it('round-trips and starts with the version prefix', () => {
    const text = seal();
    expect(text.startsWith(ENVELOPE_PREFIX)).toBe(true);
    expect(isEnvelope(text)).toBe(true);
    const envelope = decodeEnvelope(text);
    expect(envelope.dekId).toBe(dekId);
    expect(envelope.flags).toBe(FLAG_RECORD_BOUND);
    expect(openEnvelope(key, envelope, context).toString()).toBe('canary-123');
  });

  it('Precondition: the value is a string starting with the version-1 prefix.', () => {
    for (const value of [undefined, null, 42, 'canary-123', 'ks2.AAAA', `KS1.${seal().slice(4)}`]) {
      expect(code(() => decodeEnvelope(value))).toBe('CIPHERTEXT_MALFORMED');
    }
  });

  it("Precondition: the body is canonical base64url (Node's decoder skips invalid characters).", () => {
    const text = seal();
    expect(code(() => decodeEnvelope(`${text.slice(0, 10)}*${text.slice(10)}`))).toBe('CIPHERTEXT_MALFORMED');
    expect(code(() => decodeEnvelope(`${text}=`))).toBe('CIPHERTEXT_MALFORMED');
    for (const extra of ['A', 'AA', 'AAA']) {
      expect(['CIPHERTEXT_MALFORMED', 'CIPHERTEXT_TAMPERED']).toContain(code(() => openEnvelope(key, decodeEnvelope(text + extra), context)));
    }
  });

  it('rejects an unknown version and unknown flags', () => {
    const body = Buffer.from(seal().slice(4), 'base64url');
    const other = Buffer.from(body);
    other[0] = 2;
    expect(code(() => decodeEnvelope(ENVELOPE_PREFIX + other.toString('base64url')))).toBe('CIPHERTEXT_MALFORMED');
    const flags = Buffer.from(body);
    flags[1] = 0x80;
    expect(code(() => decodeEnvelope(ENVELOPE_PREFIX + flags.toString('base64url')))).toBe('CIPHERTEXT_MALFORMED');
  });

  it('rejects every truncation as malformed or tampered, never returning plaintext', () => {
    const text = seal();
    for (let n = 0; n < text.length; n++) {
      const result = code(() => openEnvelope(key, decodeEnvelope(text.slice(0, n)), context));
      expect(['CIPHERTEXT_MALFORMED', 'CIPHERTEXT_TAMPERED'], `length ${n}`).toContain(result);
    }
  });

  it('detects a flipped bit anywhere in the binary body', () => {
    const body = Buffer.from(seal().slice(4), 'base64url');
    for (let bit = 0; bit < body.length * 8; bit++) {
      const copy = Buffer.from(body);
      copy[bit >> 3]! ^= 1 << (bit & 7);
      const text = ENVELOPE_PREFIX + copy.toString('base64url');
      expect(['CIPHERTEXT_MALFORMED', 'CIPHERTEXT_TAMPERED'], `bit ${bit}`).toContain(code(() => openEnvelope(key, decodeEnvelope(text), context)));
    }
  });

  it('detects a changed character anywhere in the text', () => {
    const text = seal();
    for (let i = 0; i < text.length; i++) {
      const replacement = text[i] === 'A' ? 'B' : 'A';
      const changed = text.slice(0, i) + replacement + text.slice(i + 1);
      expect(['CIPHERTEXT_MALFORMED', 'CIPHERTEXT_TAMPERED'], `char ${i}`).toContain(code(() => openEnvelope(key, decodeEnvelope(changed), context)));
    }
  });

  it('binds model, field and record id: a value moved elsewhere fails', () => {
    const text = seal();
    for (const moved of [
      { ...context, model: 'Doctor' },
      { ...context, field: 'email' },
      { ...context, recordId: 'p2' },
    ]) {
      expect(code(() => openEnvelope(key, decodeEnvelope(text), moved))).toBe('CIPHERTEXT_TAMPERED');
    }
  });

  it('Precondition: a record-bound value is only opened with the record id it was bound to.', () => {
    const text = seal();
    expect(code(() => openEnvelope(key, decodeEnvelope(text), { ...context, recordId: undefined }))).toBe('CIPHERTEXT_TAMPERED');
    const unbound = seal('x', { ...context, recordId: undefined });
    expect(decodeEnvelope(unbound).flags).toBe(0);
    expect(openEnvelope(key, decodeEnvelope(unbound), { ...context, recordId: 'anything' }).toString()).toBe('x');
  });

  it('cannot be re-flagged as unbound to escape the record binding', () => {
    const body = Buffer.from(seal().slice(4), 'base64url');
    body[1] = 0;
    expect(code(() => openEnvelope(key, decodeEnvelope(ENVELOPE_PREFIX + body.toString('base64url')), { ...context, recordId: undefined }))).toBe('CIPHERTEXT_TAMPERED');
  });

  it('encodes a header of version, flags and DEK id', () => {
    const header = encodeHeader(dekId, 1);
    expect(header.length).toBe(18);
    expect(header[0]).toBe(1);
    expect(() => encodeHeader('zz', 0)).toThrow(/32 hex/);
    expect(encodeEnvelope(header, Buffer.alloc(12), Buffer.alloc(0), Buffer.alloc(16)).length).toBe(4 + 62);
  });
});
