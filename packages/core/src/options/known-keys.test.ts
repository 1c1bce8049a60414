import { describe, expect, it } from 'vitest';
import { KeystrataError } from '../errors/keystrata-error.js';
import { closestKey } from './closest-key.js';
import { refuseUnknownKeys } from './known-keys.js';

describe('refuseUnknownKeys', () => {
  it('issue 13 §1: names every unknown key with the closest valid one, as CONFIG_INVALID', () => {
    let caught: unknown;
    try {
      refuseUnknownKeys({ keystore: {}, segment: 1, colour: 'red' }, ['keyStore', 'segment', 'keyring'], 'test option');
    } catch (error) {
      caught = error;
    }
    expect(KeystrataError.isInstance(caught, 'CONFIG_INVALID')).toBe(true);
    expect((caught as Error).message).toMatch(/^CONFIG_INVALID: Unknown test option keys "keystore" \(did you mean "keyStore"\?\), "colour"\. Valid keys: keyStore, segment, keyring\.$/);
  });

  it('accepts an object with only valid keys', () => {
    expect(() => refuseUnknownKeys({ segment: 1 }, ['segment'], 'test option')).not.toThrow();
  });
});

describe('closestKey', () => {
  it('suggests a near name, whatever its case, and nothing for a far one', () => {
    expect(closestKey('keystore', ['keyStore', 'keyring'])).toBe('keyStore');
    expect(closestKey('segmnet', ['segment', 'keyring'])).toBe('segment');
    expect(closestKey('colour', ['segment', 'keyring'])).toBeUndefined();
  });
});
