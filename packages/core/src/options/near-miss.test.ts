import { describe, expect, it } from 'vitest';
import { editDistance, isNearMiss } from './near-miss.js';

describe('near misses of a marker or option name', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('encrytped', 'encrypted')).toBe(1);
    expect(editDistance('encrypted', 'encrypted')).toBe(0);
  });

  it('knows a misspelling from another word', () => {
    expect(isNearMiss('Encrypted', 'encrypted')).toBe(true);
    expect(isNearMiss('encrypt', 'encrypted')).toBe(true);
    expect(isNearMiss('encrypted', 'encrypted')).toBe(false);
    expect(isNearMiss('EncryptedModel', 'encrypted')).toBe(false);
  });
});
