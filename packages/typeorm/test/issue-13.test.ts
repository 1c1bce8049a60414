import { KeystrataError } from '@keystrata/core';
import { describe, expect, it } from 'vitest';
import { Encrypted, type EncryptedOptions } from '../src/index.js';

const decorate = (options: unknown): string => {
  try {
    Encrypted(options as EncryptedOptions)(class Patient {}.prototype, 'email');
    return 'none';
  } catch (error) {
    return KeystrataError.isInstance(error) && error.code === 'CONFIG_INVALID' ? error.message : 'other error';
  }
};

describe('issue 13 (TypeORM markers)', () => {
  it('issue 13 §1: @Encrypted() with an unknown option (indexed, segment) is refused naming "index", never marked without its index', () => {
    expect(decorate({ indexed: 'emailIndex' })).toMatch(/^CONFIG_INVALID: @Encrypted\(\) on email has no option "indexed"; its only option is "index"/);
    expect(decorate({ index: 'emailIndex', segment: 'x' })).toMatch(/^CONFIG_INVALID: @Encrypted\(\) on email has no option "segment"/);
    expect(decorate('emailIndex')).toMatch(/^CONFIG_INVALID: @Encrypted\(\) on email takes an options object/);
    expect(decorate({ index: 'emailIndex' })).toBe('none');
    expect(decorate({})).toBe('none');
  });
});
