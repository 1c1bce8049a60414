import * as pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, createSqliteDriver } from '../src/index.js';
import { openTestRootKey, rawPkcs11Session } from './stacks.js';

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

/** The attacker: a PIN holder with a second, raw PKCS#11 handle on the same module. */
function attackerSession(): { pkcs11: pkcs11js.PKCS11; session: Buffer } {
  const { pkcs11, session } = rawPkcs11Session();
  return { pkcs11, session };
}

function objectsWith(pkcs11: pkcs11js.PKCS11, session: Buffer, label: string, id?: string): Buffer[] {
  const template: pkcs11js.Template = [{ type: pkcs11js.CKA_LABEL, value: label }];
  if (id !== undefined) template.push({ type: pkcs11js.CKA_ID, value: Buffer.from(id, 'hex') });
  pkcs11.C_FindObjectsInit(session, template);
  const found = pkcs11.C_FindObjects(session, 32);
  pkcs11.C_FindObjectsFinal(session);
  return found;
}

/** A key the attacker creates with the CMK's label and id: importable, so weaker by construction. */
function plantClone(pkcs11: pkcs11js.PKCS11, session: Buffer, label: string, id: string, extra: pkcs11js.Template = []): Buffer {
  return pkcs11.C_CreateObject(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_ID, value: Buffer.from(id, 'hex') },
    { type: pkcs11js.CKA_VALUE, value: Buffer.alloc(32, 7) },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: true },
    ...extra,
  ]);
}

// CKR_ACTION_PROHIBITED is 0x1B; pkcs11js names it CKR_VENDOR_DEFINED:27.
const PROHIBITED = /CKR_ACTION_PROHIBITED|CKR_VENDOR_DEFINED:27/;

describe('HSM objects: CMKs and the audit key cannot be copied, cloned or weakened (issue 11 §4)', () => {
  let rootKey: Pkcs11RootKey;
  beforeAll(async () => {
    rootKey = await openTestRootKey();
  });
  afterAll(async () => {
    await rootKey.close();
  });

  it('issue 11 §4: a CMK is created with CKA_COPYABLE and CKA_MODIFIABLE false, and SoftHSM2 refuses C_CopyObject on it', async () => {
    const cmk = await rootKey.createCmk(`copy-${Date.now()}`);
    const { pkcs11, session } = attackerSession();
    const [handle] = objectsWith(pkcs11, session, cmk.label, cmk.id);
    const [copyable, modifiable] = pkcs11.C_GetAttributeValue(session, handle!, [{ type: pkcs11js.CKA_COPYABLE }, { type: pkcs11js.CKA_MODIFIABLE }]);
    expect([copyable!.value[0], modifiable!.value[0]]).toEqual([0, 0]);
    expect(() => pkcs11.C_CopyObject(session, handle!, [{ type: pkcs11js.CKA_TOKEN, value: true }])).toThrow(PROHIBITED);
    expect(() => pkcs11.C_CopyObject(session, handle!, [{ type: pkcs11js.CKA_TOKEN, value: false }])).toThrow(PROHIBITED);
    expect(objectsWith(pkcs11, session, cmk.label)).toHaveLength(1);
    // The control: SoftHSM2 2.6 does copy an object that is copyable (so the refusal above is CKA_COPYABLE at work).
    const copyableKey = plantClone(pkcs11, session, `copyable-control-${Date.now()}`, '00');
    const copy = pkcs11.C_CopyObject(session, copyableKey, [{ type: pkcs11js.CKA_TOKEN, value: false }]);
    expect(copy.length).toBeGreaterThan(0);
    pkcs11.C_DestroyObject(session, copy);
    pkcs11.C_DestroyObject(session, copyableKey);
    pkcs11.C_CloseSession(session);
  });

  it('issue 11 §4: a weaker clone planted with the CMK label and id is refused with HSM_OBJECT_UNSAFE; destroy removes both and leaves no object', async () => {
    const cmk = await rootKey.createCmk(`clone-${Date.now()}`);
    const wrapped = await rootKey.generateWrappedKek(cmk);
    const { pkcs11, session } = attackerSession();
    plantClone(pkcs11, session, cmk.label, cmk.id);
    // A fresh root key (no cached handle) must see the clone and refuse the identity.
    const fresh = await openTestRootKey();
    expect(await codeOf(fresh.unwrapKek(cmk, wrapped))).toBe('HSM_OBJECT_UNSAFE');
    expect(await codeOf(fresh.generateWrappedKek(cmk))).toBe('HSM_OBJECT_UNSAFE');
    expect(await fresh.hasCmk(cmk)).toBe(true);
    await fresh.destroyCmk(cmk);
    expect(objectsWith(pkcs11, session, cmk.label, cmk.id)).toEqual([]);
    expect(await fresh.hasCmk(cmk)).toBe(false);
    expect(await codeOf(fresh.unwrapKek(cmk, wrapped))).toBe('KEY_NOT_FOUND');
    await fresh.close();
    pkcs11.C_CloseSession(session);
  });

  it('issue 11 §4: a lone CMK object that is extractable, not sensitive, copyable or modifiable is refused', async () => {
    const { pkcs11, session } = attackerSession();
    const weak: Array<[string, pkcs11js.Template]> = [
      [
        'extractable',
        [
          { type: pkcs11js.CKA_EXTRACTABLE, value: true },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_COPYABLE, value: false },
          { type: pkcs11js.CKA_MODIFIABLE, value: false },
        ],
      ],
      [
        'not sensitive',
        [
          { type: pkcs11js.CKA_EXTRACTABLE, value: false },
          { type: pkcs11js.CKA_SENSITIVE, value: false },
          { type: pkcs11js.CKA_COPYABLE, value: false },
          { type: pkcs11js.CKA_MODIFIABLE, value: false },
        ],
      ],
      [
        'copyable',
        [
          { type: pkcs11js.CKA_EXTRACTABLE, value: false },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_MODIFIABLE, value: false },
        ],
      ],
      [
        'modifiable',
        [
          { type: pkcs11js.CKA_EXTRACTABLE, value: false },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_COPYABLE, value: false },
        ],
      ],
    ];
    const fresh = await openTestRootKey();
    for (const [what, extra] of weak) {
      const cmk = { label: `weak-${what.replace(' ', '-')}-${Date.now()}`, id: 'ab'.repeat(16) };
      plantClone(pkcs11, session, cmk.label, cmk.id, extra);
      expect(await codeOf(fresh.generateWrappedKek(cmk)), what).toBe('HSM_OBJECT_UNSAFE');
      await fresh.destroyCmk(cmk);
    }
    await fresh.close();
    pkcs11.C_CloseSession(session);
  });

  it('issue 11 §4: a copyable CMK made by an earlier version is refused for use but can be rotated away from (rewrap source only)', async () => {
    const { pkcs11, session } = attackerSession();
    const legacy = { label: `legacy-${Date.now()}`, id: 'cd'.repeat(16) };
    // What earlier versions created: generated inside, sensitive, non-extractable, CKA_COPYABLE left at its default (true).
    const legacyHandle = pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_LABEL, value: legacy.label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(legacy.id, 'hex') },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_MODIFIABLE, value: false },
      { type: pkcs11js.CKA_WRAP, value: true },
      { type: pkcs11js.CKA_UNWRAP, value: true },
    ]);
    const kek = pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    ]);
    const wrapped = Buffer.from(pkcs11.C_WrapKey(session, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, legacyHandle, kek, Buffer.alloc(64)));
    const fresh = await openTestRootKey();
    expect(await codeOf(fresh.unwrapKek(legacy, wrapped))).toBe('HSM_OBJECT_UNSAFE');
    expect(await codeOf(fresh.generateWrappedKek(legacy))).toBe('HSM_OBJECT_UNSAFE');
    const next = await fresh.createCmk(`legacy-next-${Date.now()}`);
    const rewrapped = await fresh.rewrapKek(legacy, next, wrapped);
    expect((await fresh.unwrapKek(next, rewrapped)).length).toBe(32);
    expect(await codeOf(fresh.rewrapKek(next, legacy, rewrapped))).toBe('HSM_OBJECT_UNSAFE'); // never as a target
    await fresh.destroyCmk(legacy);
    await fresh.close();
    pkcs11.C_CloseSession(session);
  });

  it('issue 11 §4: the audit key is sign/verify only, non-copyable and non-modifiable', async () => {
    const label = `audit-attr-${Date.now()}`;
    const token = inject('softhsm');
    const own = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment, auditKeyLabel: label });
    await own.createAuditKey();
    const { pkcs11, session } = attackerSession();
    const [handle] = objectsWith(pkcs11, session, label);
    const names = ['CKA_SIGN', 'CKA_VERIFY', 'CKA_ENCRYPT', 'CKA_DECRYPT', 'CKA_WRAP', 'CKA_UNWRAP', 'CKA_DERIVE', 'CKA_COPYABLE', 'CKA_MODIFIABLE', 'CKA_EXTRACTABLE', 'CKA_SENSITIVE'] as const;
    const values = pkcs11.C_GetAttributeValue(
      session,
      handle!,
      // biome-ignore lint/performance/noDynamicNamespaceImportAccess: reads CKA_* constants by name in a test; bundle size does not apply
      names.map((n) => ({ type: pkcs11js[n] })),
    );
    expect(Object.fromEntries(names.map((n, i) => [n, values[i]!.value[0] === 1]))).toEqual({
      CKA_SIGN: true,
      CKA_VERIFY: true,
      CKA_ENCRYPT: false,
      CKA_DECRYPT: false,
      CKA_WRAP: false,
      CKA_UNWRAP: false,
      CKA_DERIVE: false,
      CKA_COPYABLE: false,
      CKA_MODIFIABLE: false,
      CKA_EXTRACTABLE: false,
      CKA_SENSITIVE: true,
    });
    expect(() => pkcs11.C_CopyObject(session, handle!, [{ type: pkcs11js.CKA_TOKEN, value: false }])).toThrow(/CKR_/);
    pkcs11.C_DestroyObject(session, handle!);
    pkcs11.C_CloseSession(session);
    await own.close();
  });
});

describe('wrapped KEK length is checked before the HSM sees it (issue 11 §4)', () => {
  it.each([
    ['empty', Buffer.alloc(0)],
    ['short', Buffer.alloc(16, 1)],
    ['odd', Buffer.alloc(41, 1)],
  ])('issue 11 §4: an %s wrapped KEK fails naming the wrong length, is audited as unwrap-failed, and never reaches the HSM', async (_name, blob) => {
    const rootKey = await openTestRootKey();
    const keyStore = new SqlKeyStore(await createSqliteDriver({ database: ':memory:' }));
    const h = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix: `kek-length-${Date.now()}` });
    await h.provision();
    const context = { model: 'P', field: 'f', segment: 's' };
    const value = await h.encryptValue('canary', context);
    await keyStore.updateKek('default', 1, { wrapped: blob.toString('base64'), at: new Date().toISOString() });
    h.clearCache();
    const callsBefore = rootKey.stats.hsmCalls;
    const error = await h.decryptValue(value, context).then(
      () => undefined,
      (e: unknown) => e,
    );
    // Through the hierarchy the key store is to blame (issue 11 §2: a key-store error code).
    expect(error).toMatchObject({ code: 'KEYSTORE_TAMPERED' });
    expect(String((error as Error).message)).toMatch(/wrapped KEK default v1 has the wrong length/);
    expect((await h.listAudit()).at(-1)).toMatchObject({ event: 'unwrap-failed', subject: 'kek:default:v1' });
    // Only the audit MAC went to the HSM, not the blob.
    expect(rootKey.stats.hsmCalls - callsBefore).toBe(1);
    // The root key checks it too, for callers that use it directly.
    const [cmk] = await keyStore.listCmks('default');
    const direct = await rootKey.unwrapKek({ label: cmk!.hsmLabel, id: cmk!.hsmId }, blob).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(direct).toMatchObject({ code: 'CIPHERTEXT_TAMPERED', details: { length: blob.length } });
    expect(String((direct as Error).message)).toMatch(/wrapped KEK has the wrong length/);
    expect(rootKey.stats.hsmCalls - callsBefore).toBe(1);
    await h.close();
  });
});
