import { renameSync, rmSync } from 'node:fs';
import { createNssSoftoken } from '@keystrata/testing';
import pkcs11js from 'pkcs11js';
import { describe, expect, it } from 'vitest';
import { KeystrataError, Pkcs11RootKey } from '../src/index.js';

const codeOf = async (operation: Promise<unknown>): Promise<string> =>
  operation.then(
    () => 'ok',
    (error: unknown) => (KeystrataError.isInstance(error) ? error.code : `untyped: ${String(error)}`),
  );

describe('an NSS softoken that went away comes back', () => {
  it('issue 14 §failover: NSS softoken initialised again while its database directory was away serves again once the directory returns', async () => {
    const nss = createNssSoftoken({ label: 'nss-rejoin' });
    const rootKey = await Pkcs11RootKey.open({ module: nss.module, tokenLabel: nss.tokenLabel, pin: () => nss.pin, libraryParameters: nss.libraryParameters });
    try {
      const cmk = await rootKey.createCmk('keystrata-cmk-rejoin');
      const wrapped = await rootKey.generateWrappedKek(cmk);
      // Taken away for real: the database directory disappears and a second handle finalises the module under the library.
      renameSync(nss.directory, `${nss.directory}-away`);
      const second = new pkcs11js.PKCS11();
      second.load(nss.module);
      second.C_Finalize();
      expect(await codeOf(rootKey.unwrapKek(cmk, wrapped))).toBe('HSM_UNAVAILABLE');
      expect(await codeOf(rootKey.unwrapKek(cmk, wrapped))).toBe('HSM_UNAVAILABLE');
      renameSync(`${nss.directory}-away`, nss.directory);
      // NSS initialised without its database shows no token until it is initialised again.
      const kek = await rootKey.unwrapKek(cmk, wrapped);
      expect(kek.length).toBe(32);
      kek.destroy();
    } finally {
      await rootKey.close();
      rmSync(nss.directory, { recursive: true, force: true });
      rmSync(`${nss.directory}-away`, { recursive: true, force: true });
    }
  });
});
