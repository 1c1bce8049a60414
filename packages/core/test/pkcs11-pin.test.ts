import { describe, expect, inject, it } from 'vitest';
import { Pkcs11RootKey } from '../src/index.js';

// Its own file (its own process): PKCS#11 login is per application, so once any root key in a
// process is logged in, the token reports CKR_USER_ALREADY_LOGGED_IN and a PIN is not re-checked.
describe('PIN handling on SoftHSM2', () => {
  const token = inject('softhsm');
  const options = { module: token.module, tokenLabel: token.tokenLabel, moduleEnvironment: token.moduleEnvironment };

  it('refuses a wrong PIN with HSM_PIN_INCORRECT, never shows it, and never retries it', async () => {
    let asked = 0;
    const error = await Pkcs11RootKey.open({ ...options, pin: () => (asked++, 'wrong-pin-0000') }).then(
      () => undefined,
      (e) => e,
    );
    expect(error).toMatchObject({ code: 'HSM_PIN_INCORRECT' });
    expect(asked).toBe(1);
    expect(JSON.stringify(error) + String(error) + String(error.stack)).not.toContain('wrong-pin-0000');
    // One failed attempt does not lock the token: the right PIN still works.
    const rootKey = await Pkcs11RootKey.open({ ...options, pin: () => token.pin });
    expect(rootKey.stats.reconnects).toBe(0);
    await rootKey.close();
  });
});
