import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { KeystrataError, Pkcs11RootKey } from '../src/index.js';
import { openTestRootKey } from './stacks.js';

// Issue 11 §4 (review): the per-process PIN latch is keyed by the module's real path, and a token
// found logged in by something that is not a Keystrata root key of this process is refused.

const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e) => (KeystrataError.isInstance(e) ? e.code : String(e)),
  );

describe('issue 11 §4 (review): second root key, same token, module reached through another path', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('issue 11 §4 (review): a second root key opened through a symlink to the module with a wrong PIN is refused with HSM_PIN_INCORRECT', async () => {
    const first = await openTestRootKey();
    closers.push(() => first.close());
    const token = inject('softhsm');
    const link = join(mkdtempSync(join(tmpdir(), 'rv-')), 'libsofthsm2.so');
    symlinkSync(token.module, link);
    const outcome = await Pkcs11RootKey.open({ module: link, tokenLabel: token.tokenLabel, pin: () => 'definitely-wrong-pin', moduleEnvironment: token.moduleEnvironment }).then(
      async (second) => {
        closers.push(() => second.close());
        const ok = await second.hasCmk({ label: 'x', id: '00' }).then(
          () => 'usable',
          (e) => (KeystrataError.isInstance(e) ? e.code : String(e)),
        );
        return `opened, ${ok}`;
      },
      (e) => (KeystrataError.isInstance(e) ? e.code : String(e)),
    );
    expect(outcome).toBe('HSM_PIN_INCORRECT');
    // The right PIN through the symlink still opens, sharing the loaded module.
    const third = await Pkcs11RootKey.open({ module: link, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
    closers.push(() => third.close());
    expect(await third.hasCmk({ label: 'x', id: '00' })).toBe(false);
  });

  it("issue 11 §4 (review): a token logged in by another PKCS#11 user of this process (not a root key) refuses a root key's wrong PIN with HSM_PIN_INCORRECT", async () => {
    const shared = inject('softhsm');
    // Its own token: no root key of this process has logged in to it.
    const label = `pin-foreign-${process.pid}`;
    const pin = 'foreign-pin-1234';
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', 'so-pin-5678'], {
      env: { ...process.env, SOFTHSM2_CONF: shared.conf },
      stdio: 'pipe',
    });
    // The other user: a raw handle on the same module, logged in with the right PIN.
    const pkcs11 = new pkcs11js.PKCS11();
    pkcs11.load(shared.module);
    try {
      pkcs11.C_Initialize();
    } catch (e) {
      if (!String(e).includes('ALREADY_INITIALIZED')) throw e;
    }
    const slot = pkcs11.C_GetSlotList(true).find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === label)!;
    const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      pkcs11.C_Login(session, pkcs11js.CKU_USER, pin);
      const options = { module: shared.module, tokenLabel: label, moduleEnvironment: shared.moduleEnvironment };
      const outcome = await Pkcs11RootKey.open({ ...options, pin: () => 'not-the-pin-0000' }).then(
        async (key) => {
          closers.push(() => key.close());
          return `opened, ${await codeOf(key.hasCmk({ label: 'x', id: '00' }))}`;
        },
        (e) => (KeystrataError.isInstance(e) ? e.code : String(e)),
      );
      expect(outcome).toBe('HSM_PIN_INCORRECT');
    } finally {
      try {
        pkcs11.C_CloseSession(session);
      } catch {
        /* closed */
      }
    }
  });
});
