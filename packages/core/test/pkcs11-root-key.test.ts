import * as pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hex, loadWycheproof } from '@keystrata/testing';
import { KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, createSqliteDriver } from '../src/index.js';
import { openTestRootKey, rawPkcs11Session } from './stacks.js';

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

/** A second, raw PKCS#11 handle on the same module: how an operator (or an attacker) would look. */
const rawSession = rawPkcs11Session;

describe('Pkcs11RootKey on SoftHSM2', () => {
  let rootKey: Pkcs11RootKey;
  beforeAll(async () => {
    rootKey = await openTestRootKey();
  });
  afterAll(async () => {
    await rootKey.close();
  });

  it('generates a CMK that is sensitive, non-extractable and wrap/unwrap only', async () => {
    const cmk = await rootKey.createCmk(`attr-test-${Date.now()}`);
    const { pkcs11, session } = rawSession();
    pkcs11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: cmk.label }]);
    const [handle] = pkcs11.C_FindObjects(session, 2);
    pkcs11.C_FindObjectsFinal(session);
    const names = [
      'CKA_TOKEN',
      'CKA_PRIVATE',
      'CKA_SENSITIVE',
      'CKA_EXTRACTABLE',
      'CKA_ALWAYS_SENSITIVE',
      'CKA_NEVER_EXTRACTABLE',
      'CKA_MODIFIABLE',
      'CKA_WRAP',
      'CKA_UNWRAP',
      'CKA_ENCRYPT',
      'CKA_DECRYPT',
    ] as const;
    const values = pkcs11.C_GetAttributeValue(
      session,
      handle!,
      // biome-ignore lint/performance/noDynamicNamespaceImportAccess: reads CKA_* constants by name in a test; bundle size does not apply
      names.map((n) => ({ type: pkcs11js[n] })),
    );
    expect(Object.fromEntries(names.map((n, i) => [n, values[i]!.value[0] === 1]))).toEqual({
      CKA_TOKEN: true,
      CKA_PRIVATE: true,
      CKA_SENSITIVE: true,
      CKA_EXTRACTABLE: false,
      CKA_ALWAYS_SENSITIVE: true,
      CKA_NEVER_EXTRACTABLE: true,
      CKA_MODIFIABLE: false,
      CKA_WRAP: true,
      CKA_UNWRAP: true,
      CKA_ENCRYPT: false,
      CKA_DECRYPT: false,
    });
    expect(() => pkcs11.C_GetAttributeValue(session, handle!, [{ type: pkcs11js.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    pkcs11.C_CloseSession(session);
  });

  it('wraps KEKs inside the HSM and unwraps them only through it; a tampered blob is CIPHERTEXT_TAMPERED', async () => {
    const cmk = await rootKey.createCmk(`wrap-test-${Date.now()}`);
    const other = await rootKey.createCmk(`wrap-test-other-${Date.now()}`);
    const wrapped = await rootKey.generateWrappedKek(cmk);
    // issue 14 §portability: kw header (7 bytes: 'kw', version 1, CKM_AES_KEY_WRAP) + RFC 3394 (40); was a bare 40-byte RFC 5649 blob.
    expect(wrapped.subarray(0, 7).toString('hex')).toBe('6b770100002109');
    expect(wrapped.length).toBe(47);
    const kek = await rootKey.unwrapKek(cmk, wrapped);
    expect(kek.length).toBe(32);
    const rewrapped = await rootKey.rewrapKek(cmk, other, wrapped);
    expect((await rootKey.unwrapKek(other, rewrapped)).exposeSecretBytes()).toEqual(kek.exposeSecretBytes());
    const tampered = Buffer.from(wrapped);
    tampered[12]! ^= 0x10; // in the module's bytes, past the header
    expect(await codeOf(rootKey.unwrapKek(cmk, tampered))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(rootKey.unwrapKek(other, wrapped))).toBe('CIPHERTEXT_TAMPERED');
  });

  it('issue 14 §portability: wrapKekBytes wraps a KEK held in process under another CMK (how a KEK is copied to another root), in the kw format, and it unwraps to the same bytes', async () => {
    const source = await rootKey.createCmk(`import-src-${Date.now()}`);
    const target = await rootKey.createCmk(`import-dst-${Date.now()}`);
    const kek = await rootKey.unwrapKek(source, await rootKey.generateWrappedKek(source));
    const copied = await rootKey.wrapKekBytes(target, kek);
    expect(copied.subarray(0, 7).toString('hex')).toBe('6b770100002109');
    expect((await rootKey.unwrapKek(target, copied)).exposeSecretBytes()).toEqual(kek.exposeSecretBytes());
    expect(kek.destroyed).toBe(false);
    expect(await codeOf(rootKey.unwrapKek(source, copied))).toBe('CIPHERTEXT_TAMPERED');
  });

  it('recovers when its sessions are closed under it: reopens sessions (never finalising the module), logs in once, retries once', async () => {
    const cmk = await rootKey.createCmk(`reconnect-${Date.now()}`);
    const wrapped = await rootKey.generateWrappedKek(cmk);
    const { pkcs11, slot } = rawSession();
    pkcs11.C_CloseAllSessions(slot);
    const before = rootKey.stats.reconnects;
    const kek = await rootKey.unwrapKek(cmk, wrapped);
    expect(kek.length).toBe(32);
    expect(rootKey.stats.reconnects).toBe(before + 1);
  });

  it('serves many concurrent operations through a small pool', async () => {
    const small = await Pkcs11RootKey.open({ ...tokenOptions(), sessions: 2 });
    const cmk = await small.createCmk(`pool-${Date.now()}`);
    const wrapped = await small.generateWrappedKek(cmk);
    const keys = await Promise.all(Array.from({ length: 50 }, () => small.unwrapKek(cmk, wrapped)));
    expect(new Set(keys.map((k) => k.exposeSecretBytes().toString('hex'))).size).toBe(1);
    await small.close();
    await small.close(); // idempotent: the module is released once
    expect(await codeOf(small.unwrapKek(cmk, wrapped))).toBe('HSM_UNAVAILABLE');
    expect((await rootKey.unwrapKek(cmk, wrapped)).length).toBe(32); // other users of the module unaffected
  });

  it('names what is wrong with the configuration', async () => {
    expect(await codeOf(Pkcs11RootKey.open({ ...tokenOptions(), tokenLabel: 'no-such-token' }))).toBe('HSM_UNAVAILABLE');
    expect(await codeOf(Pkcs11RootKey.open({ ...tokenOptions(), module: '/nonexistent/libpkcs11.so' }))).toBe('HSM_UNAVAILABLE');
    expect(await codeOf(Pkcs11RootKey.open({ ...tokenOptions(), slotIndex: 0 }))).toBe('CONFIG_INVALID');
    expect(await codeOf(Pkcs11RootKey.open({ ...tokenOptions(), pin: {} as never }))).toBe('CONFIG_INVALID');
    expect(await codeOf(Pkcs11RootKey.open({ ...tokenOptions(), pin: { env: 'KEYSTRATA_TEST_UNSET_PIN' } }))).toBe('CONFIG_INVALID');
  });

  it('audits a failed KEK unwrap and fails the read with KEYSTORE_TAMPERED (issue 11 §2: a key-store fault, not a value fault)', async () => {
    const keyStore = new SqlKeyStore(await createSqliteDriver({ database: ':memory:' }));
    const h = await KeyHierarchy.create({ rootKey: await openTestRootKey(), keyStore, cmkLabelPrefix: `tamper-${Date.now()}` });
    await h.provision();
    const context = { model: 'P', field: 'f', segment: 's' };
    const value = await h.encryptValue('canary', context);
    const [kek] = await keyStore.listKeks('default');
    const wrapped = Buffer.from(kek!.wrapped, 'base64');
    wrapped[0]! ^= 1;
    await keyStore.updateKek('default', 1, { wrapped: wrapped.toString('base64'), at: new Date().toISOString() });
    h.clearCache();
    expect(await codeOf(h.decryptValue(value, context))).toBe('KEYSTORE_TAMPERED');
    expect((await h.listAudit()).at(-1)).toMatchObject({ event: 'unwrap-failed', subject: 'kek:default:v1' });
    await h.close();
  });

  it('unwraps the Wycheproof AES-KWP vectors with the HSM mechanism (valid accepted, invalid rejected)', () => {
    const { pkcs11, session } = rawSession();
    const cases = loadWycheproof('aes_kwp_test.json').flatMap((g) => g.tests);
    let accepted = 0;
    for (const t of cases) {
      const key = pkcs11.C_CreateObject(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_VALUE, value: hex(t.key) },
        { type: pkcs11js.CKA_UNWRAP, value: true },
      ]);
      const attempt = () => {
        const out = pkcs11.C_UnwrapKey(session, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, key, hex(t.ct), [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
          { type: pkcs11js.CKA_TOKEN, value: false },
          { type: pkcs11js.CKA_SENSITIVE, value: false },
          { type: pkcs11js.CKA_EXTRACTABLE, value: true },
        ]);
        const [value] = pkcs11.C_GetAttributeValue(session, out, [{ type: pkcs11js.CKA_VALUE }]);
        pkcs11.C_DestroyObject(session, out);
        return value!.value.toString('hex');
      };
      if (t.result === 'valid') {
        expect(attempt(), `tcId ${t.tcId}`).toBe(t.msg);
        accepted++;
      } else {
        expect(attempt, `tcId ${t.tcId}`).toThrow();
      }
      pkcs11.C_DestroyObject(session, key);
    }
    expect(accepted).toBe(77);
    pkcs11.C_CloseSession(session);
  });
});

function tokenOptions() {
  const token = inject('softhsm');
  return { module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment };
}
