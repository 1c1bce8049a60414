import { describe, expect, inject, it } from 'vitest';
import { KeystrataError, Pkcs11RootKey } from '../src/index.js';

describe('a token that is not there', () => {
  it('issue 13 §1: HSM_UNAVAILABLE "No initialised token" names what to check: SOFTHSM2_CONF, the token label, keystrata hsm init-dev', async () => {
    const token = inject('softhsm');
    const error = await Pkcs11RootKey.open({ module: token.module, tokenLabel: 'no-such-token', pin: () => token.pin, moduleEnvironment: token.moduleEnvironment }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(KeystrataError.isInstance(error, 'HSM_UNAVAILABLE')).toBe(true);
    const { message, hint } = error as KeystrataError;
    expect(message).toMatch(/No initialised token "no-such-token" in module .* \(it shows \d+ initialised tokens?\)/);
    expect(hint).toMatch(/SOFTHSM2_CONF/);
    expect(hint).toMatch(/token label/);
    expect(hint).toMatch(/keystrata hsm init-dev/);
    expect(message).not.toContain(token.pin);
  });
});
