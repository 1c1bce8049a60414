import { execFileSync } from 'node:child_process';
import * as pkcs11js from 'pkcs11js';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { KeystrataError, Pkcs11RootKey } from '../src/index.js';

// Its own file (its own process) and its own token: PKCS#11 login state is per process and per
// token, and this file changes the token's PIN.
const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

describe('a wrong PIN is sent to the HSM once (issue 11 §4)', () => {
  const shared = inject('softhsm');
  const label = `pin-latch-${process.pid}`;
  const pin = 'first-pin-1234';
  const options = { module: shared.module, tokenLabel: label, moduleEnvironment: shared.moduleEnvironment };

  beforeAll(() => {
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', 'so-pin-5678'], {
      env: { ...process.env, SOFTHSM2_CONF: shared.conf },
      stdio: 'pipe',
    });
  });

  /** The attacker (or an operator): a second raw handle on the same module. */
  function secondHandle(): { pkcs11: pkcs11js.PKCS11; slot: Buffer; session: Buffer } {
    const pkcs11 = new pkcs11js.PKCS11();
    pkcs11.load(shared.module);
    try {
      pkcs11.C_Initialize();
    } catch (e) {
      if (!String(e).includes('ALREADY_INITIALIZED')) throw e;
    }
    const slot = pkcs11.C_GetSlotList(true).find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === label)!;
    const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    return { pkcs11, slot, session };
  }

  it('issue 11 §4: a second root key opened with a different PIN in a process already logged in is refused', async () => {
    const first = await Pkcs11RootKey.open({ ...options, pin: () => pin });
    expect(await codeOf(Pkcs11RootKey.open({ ...options, pin: () => 'not-the-pin-0000' }))).toBe('HSM_PIN_INCORRECT');
    const second = await Pkcs11RootKey.open({ ...options, pin: () => pin });
    const cmk = await second.createCmk(`second-${Date.now()}`);
    expect((await first.unwrapKek(cmk, await second.generateWrappedKek(cmk))).length).toBe(32);
    await second.close();
    await first.close();
  });

  it('issue 11 §3b: a login lost under the root key (C_Logout through a second handle) is re-established once and the operation succeeds', async () => {
    let asked = 0;
    const rootKey = await Pkcs11RootKey.open({ ...options, pin: () => (asked++, pin) });
    const cmk = await rootKey.createCmk(`relogin-${Date.now()}`);
    const wrapped = await rootKey.generateWrappedKek(cmk);
    const fresh = await Pkcs11RootKey.open({ ...options, pin: () => (asked++, pin) }); // no cached object handles
    const { pkcs11, session } = secondHandle();
    pkcs11.C_Logout(session);
    const before = { asked, reconnects: rootKey.stats.reconnects + fresh.stats.reconnects };
    expect((await rootKey.unwrapKek(cmk, wrapped)).length).toBe(32);
    expect(await fresh.hasCmk(cmk)).toBe(true); // not a false "missing" while logged out
    expect((await fresh.unwrapKek(cmk, wrapped)).length).toBe(32);
    expect(asked - before.asked).toBeGreaterThanOrEqual(1);
    expect(asked - before.asked).toBeLessThanOrEqual(2);
    expect(rootKey.stats.reconnects + fresh.stats.reconnects - before.reconnects).toBeGreaterThanOrEqual(1);
    pkcs11.C_CloseSession(session);
    await fresh.close();
    await rootKey.close();
  });

  it('issue 11 §4: after the PIN changed on the HSM and the sessions dropped, 50 operations read the PIN and call C_Login once', async () => {
    let asked = 0;
    const rootKey = await Pkcs11RootKey.open({ ...options, pin: () => (asked++, pin) });
    const cmk = await rootKey.createCmk(`latch-${Date.now()}`);
    const wrapped = await rootKey.generateWrappedKek(cmk);
    expect(asked).toBe(1);
    const { pkcs11, slot, session } = secondHandle();
    try {
      pkcs11.C_Login(session, pkcs11js.CKU_USER, pin);
    } catch (e) {
      if (!String(e).includes('ALREADY_LOGGED_IN')) throw e;
    }
    pkcs11.C_SetPIN(session, pin, 'changed-pin-5678');
    pkcs11.C_CloseAllSessions(slot);
    const concurrent = await Promise.all(Array.from({ length: 25 }, () => codeOf(rootKey.unwrapKek(cmk, wrapped))));
    const sequential: string[] = [];
    for (let i = 0; i < 25; i++) sequential.push(await codeOf(rootKey.unwrapKek(cmk, wrapped)));
    expect(new Set([...concurrent, ...sequential])).toEqual(new Set(['HSM_PIN_INCORRECT']));
    expect(asked).toBe(2); // once at open, once for the one login after the sessions dropped
    expect(pkcs11.C_GetTokenInfo(slot).flags & pkcs11js.CKF_USER_PIN_LOCKED).toBe(0);
    await rootKey.close();

    // Reopening with the same PIN source result: refused in this process without C_Login.
    expect(await codeOf(Pkcs11RootKey.open({ ...options, pin: () => (asked++, pin) }))).toBe('HSM_PIN_INCORRECT');
    // Another PIN source result is tried: the changed PIN works.
    const fixed = await Pkcs11RootKey.open({ ...options, pin: () => 'changed-pin-5678' });
    expect((await fixed.unwrapKek(cmk, wrapped)).length).toBe(32);
    await fixed.close();
  });
});
