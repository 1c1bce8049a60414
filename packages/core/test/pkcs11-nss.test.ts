import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNssSoftoken, type NssSoftoken } from '@keystrata/testing';
import { KeystrataError, Pkcs11RootKey } from '../src/index.js';
import { SecretKey } from '../src/secret/secret-key.js';

// Issue 14 §portability: Pkcs11RootKey on NSS softoken, by configuration alone (libraryParameters),
// and what differs there from SoftHSM2: no CKA_COPYABLE, and C_CopyObject of a token key rewrites the
// object in place. NSS allows one C_Initialize per process: this file runs in its own worker.

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

let nss: NssSoftoken;
/**
 * The fixture's parameters with the token label unquoted and last: pkcs11js 2.1 drops the last
 * character of libraryParameters, so without Keystrata's NUL the token would be "keystrata-nss-roo".
 */
let libraryParameters: string;
const opened: Pkcs11RootKey[] = [];
const open = async (overrides: Partial<Parameters<typeof Pkcs11RootKey.open>[0]> = {}): Promise<Pkcs11RootKey> => {
  const rootKey = await Pkcs11RootKey.open({ module: nss.module, libraryParameters, tokenLabel: nss.tokenLabel, pin: () => nss.pin, ...overrides });
  opened.push(rootKey);
  return rootKey;
};

/** A second, raw PKCS#11 handle on the NSS token, logged in: how a PIN holder looks. Never finalised (the root keys share the library). */
function rawNssSession(): { pkcs11: pkcs11js.PKCS11; session: Buffer } {
  const pkcs11 = new pkcs11js.PKCS11();
  pkcs11.load(nss.module);
  try {
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK, libraryParameters: `${libraryParameters}\u0000` });
  } catch (e) {
    if (!String(e).includes('ALREADY_INITIALIZED')) throw e;
  }
  const slot = pkcs11.C_GetSlotList(true).find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === nss.tokenLabel)!;
  const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    pkcs11.C_Login(session, pkcs11js.CKU_USER, nss.pin);
  } catch (e) {
    if (!String(e).includes('ALREADY_LOGGED_IN')) throw e;
  }
  return { pkcs11, session };
}

function findCmk(pkcs11: pkcs11js.PKCS11, session: Buffer, cmk: { label: string; id: string }): Buffer {
  pkcs11.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_LABEL, value: cmk.label },
    { type: pkcs11js.CKA_ID, value: Buffer.from(cmk.id, 'hex') },
  ]);
  const found = pkcs11.C_FindObjects(session, 4);
  pkcs11.C_FindObjectsFinal(session);
  expect(found.length).toBe(1);
  return found[0]!;
}

describe('issue 14 §portability: Pkcs11RootKey on NSS softoken', () => {
  let rootKey: Pkcs11RootKey;
  beforeAll(async () => {
    nss = createNssSoftoken({ label: 'keystrata-nss-root' });
    libraryParameters = nss.libraryParameters.replace(/dbTokenDescription='([^']*)'$/, 'dbTokenDescription=$1');
    expect(libraryParameters.endsWith('dbTokenDescription=keystrata-nss-root')).toBe(true);
    rootKey = await open();
  });
  afterAll(async () => {
    for (const key of opened.splice(0).reverse()) await key.close();
  });

  it('issue 14 §portability: on NSS the root key opens by libraryParameters alone (read exactly: the unquoted label at the end names the token), writes CKM_AES_KEY_WRAP blobs, unwraps and rewraps them, and MACs with its audit key', async () => {
    expect(rootKey.description).toBe('pkcs11 token "keystrata-nss-root"');
    expect(rootKey.wrapMechanism).toBe(pkcs11js.CKM_AES_KEY_WRAP);
    const cmk = await rootKey.createCmk(`nss-cmk-${Date.now()}`);
    const other = await rootKey.createCmk(`nss-cmk-other-${Date.now()}`);
    const wrapped = await rootKey.generateWrappedKek(cmk);
    expect(wrapped.subarray(0, 7).toString('hex')).toBe('6b770100002109');
    expect(wrapped.length).toBe(47);
    const kek = await rootKey.unwrapKek(cmk, wrapped);
    const rewrapped = await rootKey.rewrapKek(cmk, other, wrapped);
    expect((await rootKey.unwrapKek(other, rewrapped)).exposeSecretBytes()).toEqual(kek.exposeSecretBytes());
    const tampered = Buffer.from(wrapped);
    tampered[20]! ^= 1;
    expect(await codeOf(rootKey.unwrapKek(cmk, tampered))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(rootKey.unwrapKek(other, wrapped))).toBe('CIPHERTEXT_TAMPERED');
    const identity = await rootKey.createAuditKey();
    expect((await rootKey.auditMac(Buffer.from('record'), identity)).length).toBe(32);
  });

  it('issue 14 §portability: NSS knows no CKA_COPYABLE, so CMKs are made without it; they are still sensitive, never extractable, unmodifiable and wrap/unwrap only', async () => {
    const cmk = await rootKey.createCmk(`nss-attr-${Date.now()}`);
    const { pkcs11, session } = rawNssSession();
    const handle = findCmk(pkcs11, session, cmk);
    expect(() => pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_COPYABLE }])).toThrow(/CKR_ATTRIBUTE_TYPE_INVALID/);
    const names = ['CKA_SENSITIVE', 'CKA_EXTRACTABLE', 'CKA_ALWAYS_SENSITIVE', 'CKA_NEVER_EXTRACTABLE', 'CKA_MODIFIABLE', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_ENCRYPT', 'CKA_DECRYPT'] as const;
    const values = pkcs11.C_GetAttributeValue(
      session,
      handle,
      names.map((n) => ({ type: pkcs11js[n] })),
    );
    expect(Object.fromEntries(names.map((n, i) => [n, values[i]!.value[0] === 1]))).toEqual({
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
    expect(() => pkcs11.C_SetAttributeValue(session, handle, [{ type: pkcs11js.CKA_DECRYPT, value: true }])).toThrow(/CKR_ATTRIBUTE_READ_ONLY/);
    expect(() => pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    pkcs11.C_CloseSession(session);
  });

  it('issue 14 §portability: a PIN holder who C_CopyObjects an NSS CMK onto itself with CKA_DECRYPT on (NSS rewrites it in place despite CKA_MODIFIABLE false) is refused with HSM_OBJECT_UNSAFE: the copy is no longer CKA_ALWAYS_SENSITIVE / CKA_NEVER_EXTRACTABLE', async () => {
    const cmk = await rootKey.createCmk(`nss-copy-${Date.now()}`);
    const wrapped = await rootKey.generateWrappedKek(cmk);
    const { pkcs11, session } = rawNssSession();
    const handle = findCmk(pkcs11, session, cmk);
    const copy = pkcs11.C_CopyObject(session, handle, [{ type: pkcs11js.CKA_DECRYPT, value: true }]);
    expect(copy.equals(handle)).toBe(true); // the same object, now decrypt-capable
    const after = pkcs11.C_GetAttributeValue(session, findCmk(pkcs11, session, cmk), [
      { type: pkcs11js.CKA_DECRYPT },
      { type: pkcs11js.CKA_ALWAYS_SENSITIVE },
      { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
    ]);
    expect(after.map((a) => a.value[0])).toEqual([1, 0, 0]); // decrypt-capable, and no longer "generated inside, never extractable"
    pkcs11.C_CloseSession(session);
    const fresh = await open(); // a process that finds the CMK again (no cached handle)
    expect(await codeOf(fresh.unwrapKek(cmk, wrapped))).toBe('HSM_OBJECT_UNSAFE');
    expect(await codeOf(fresh.generateWrappedKek(cmk))).toBe('HSM_OBJECT_UNSAFE');
  });

  it('issue 14 §portability: wrapKekBytes wraps a KEK held in process under an NSS CMK, in the current format, and it unwraps to the same bytes', async () => {
    const cmk = await rootKey.createCmk(`nss-import-${Date.now()}`);
    const kek = SecretKey.takeOwnership(Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex'));
    const wrapped = await rootKey.wrapKekBytes(cmk, kek);
    expect(wrapped.subarray(0, 7).toString('hex')).toBe('6b770100002109');
    expect((await rootKey.unwrapKek(cmk, wrapped)).exposeSecretBytes()).toEqual(kek.exposeSecretBytes());
    expect(kek.destroyed).toBe(false); // the caller's key stays the caller's
  });

  it("issue 14 §portability: on NSS, a CKM_AES_KEY_WRAP blob relabelled CKM_AES_KEY_WRAP_PAD (same RFC 3394 check value there) fails closed as CIPHERTEXT_TAMPERED whatever the KEK's last bytes look like as padding", async () => {
    const cmk = await rootKey.createCmk(`nss-relabel-${Date.now()}`);
    const endings = [Buffer.from([0x01]), Buffer.alloc(8, 0x08), Buffer.from([0x02, 0x02]), Buffer.from([0x10]), Buffer.from([0x00])];
    for (const ending of endings) {
      const bytes = Buffer.concat([Buffer.alloc(32 - ending.length, 0x5a), ending]);
      const wrapped = await rootKey.wrapKekBytes(cmk, SecretKey.takeOwnership(bytes));
      const relabelled = Buffer.from(wrapped);
      relabelled.writeUInt32BE(pkcs11js.CKM_AES_KEY_WRAP_PAD, 3);
      expect(await codeOf(rootKey.unwrapKek(cmk, relabelled)), ending.toString('hex')).toBe('CIPHERTEXT_TAMPERED');
      expect(await codeOf(rootKey.unwrapKek(cmk, wrapped.subarray(7))), `stripped ${ending.toString('hex')}`).toBe('CIPHERTEXT_TAMPERED');
      expect((await rootKey.unwrapKek(cmk, wrapped)).exposeSecretBytes().equals(Buffer.concat([Buffer.alloc(32 - ending.length, 0x5a), ending]))).toBe(true);
    }
  });

  it('issue 14 §portability: on NSS the root key recovers when its sessions are closed under it (reopens, logs in once, retries once) and serves concurrent unwraps through a small pool', async () => {
    const small = await open({ sessions: 2 });
    const cmk = await small.createCmk(`nss-pool-${Date.now()}`);
    const wrapped = await small.generateWrappedKek(cmk);
    const keys = await Promise.all(Array.from({ length: 40 }, () => small.unwrapKek(cmk, wrapped)));
    expect(new Set(keys.map((k) => k.exposeSecretBytes().toString('hex'))).size).toBe(1);
    const { pkcs11, session } = rawNssSession();
    const slot = pkcs11.C_GetSessionInfo(session).slotID;
    pkcs11.C_CloseAllSessions(slot);
    const before = small.stats.reconnects;
    expect((await small.unwrapKek(cmk, wrapped)).exposeSecretBytes()).toEqual(keys[0]!.exposeSecretBytes());
    expect(small.stats.reconnects).toBeGreaterThan(before);
    expect((await rootKey.unwrapKek(cmk, wrapped)).length).toBe(32); // the other root key on the module recovers too
  });

  it('Precondition: only a 32-byte KEK is wrapped by wrapKekBytes.', async () => {
    const cmk = await rootKey.createCmk(`nss-import-short-${Date.now()}`);
    const calls = rootKey.stats.hsmCalls;
    expect(await codeOf(rootKey.wrapKekBytes(cmk, SecretKey.takeOwnership(Buffer.alloc(16, 1))))).toBe('CONFIG_INVALID');
    expect(rootKey.stats.hsmCalls).toBe(calls);
  });

  it('Precondition: libraryParameters is a non-empty string without NUL when given.', async () => {
    for (const wrong of ['', `${libraryParameters}\u0000x`, 42 as unknown as string]) {
      expect(await codeOf(open({ libraryParameters: wrong })), String(wrong)).toBe('CONFIG_INVALID');
    }
  });

  it('issue 14 §portability: a second root key on the same module with other library parameters is refused with CONFIG_INVALID (the module is initialised once per process)', async () => {
    expect(await codeOf(open({ libraryParameters: `${libraryParameters} ` }))).toBe('CONFIG_INVALID');
    expect(await codeOf(open({ libraryParameters: undefined }))).toBe('CONFIG_INVALID');
    expect((await open()).wrapMechanism).toBe(pkcs11js.CKM_AES_KEY_WRAP);
  });

  it('issue 14 §portability: a wrong PIN on NSS is HSM_PIN_INCORRECT and is not sent again; the right PIN still opens', async () => {
    expect(await codeOf(open({ pin: () => 'wrong-nss-pin' }))).toBe('HSM_PIN_INCORRECT');
    expect(await codeOf(open({ pin: () => 'wrong-nss-pin' }))).toBe('HSM_PIN_INCORRECT');
    expect((await open()).wrapMechanism).toBe(pkcs11js.CKM_AES_KEY_WRAP);
  });
});
