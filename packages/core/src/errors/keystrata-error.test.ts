import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KeystrataError } from './keystrata-error.js';

describe('KeystrataError', () => {
  it('has a stable code, an actionable message and isInstance', () => {
    const error = new KeystrataError('KEY_DISABLED', 'DEK 1 is disabled.');
    expect(error.code).toBe('KEY_DISABLED');
    expect(error.message).toMatch(/Enable it again/);
    expect(KeystrataError.isInstance(error)).toBe(true);
    expect(KeystrataError.isInstance(error, 'KEY_DESTROYED')).toBe(false);
    expect(KeystrataError.isInstance(new Error('x'))).toBe(false);
  });

  it('withholds the message of a non-HSM cause (drivers can quote parameters)', () => {
    const cause = Object.assign(new Error('duplicate key value (ssn)=(123-45-6789)'), { code: '23505' });
    const error = new KeystrataError('KEYSTORE_UNAVAILABLE', 'failed', { cause });
    const everything = JSON.stringify(error) + inspect(error) + String(error.cause?.message);
    expect(everything).not.toContain('123-45-6789');
    expect(error.cause).toEqual({ name: 'Error', code: '23505', message: '(message withheld)' });
  });
});
