import { createCipheriv } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNssSoftoken, hex, loadRfcKeyWrapVectors, loadWycheproof } from '@keystrata/testing';
import { chooseWrapMechanism } from '../src/root-key/pkcs11-wrap-mechanism.js';
import { rawPkcs11Session } from './stacks.js';

// Issue 14 §portability: the same key wrapped under the same wrapping key, on SoftHSM2, on NSS
// softoken and with node:crypto. CMKs never leave an HSM, so a known wrapping key is imported as a
// session object on both modules. CKM_AES_KEY_WRAP (0x2109) must give identical bytes everywhere;
// CKM_AES_KEY_WRAP_PAD (0x210A) is pinned as what each module does: RFC 5649 (40 bytes) on SoftHSM2,
// RFC 3394 over a PKCS#7-padded key (48 bytes) on NSS. NSS is initialised once, in this file's process.

interface Module {
  readonly name: string;
  readonly pkcs11: pkcs11js.PKCS11;
  readonly session: Buffer;
  readonly slot: Buffer;
}

const aesKey = (module: Module, value: Buffer, use: 'wrapping' | 'wrapped'): Buffer =>
  module.pkcs11.C_CreateObject(module.session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_VALUE, value },
    ...(use === 'wrapping'
      ? [
          { type: pkcs11js.CKA_WRAP, value: true },
          { type: pkcs11js.CKA_UNWRAP, value: true },
        ]
      : [{ type: pkcs11js.CKA_EXTRACTABLE, value: true }]),
  ]);

/** Wraps `key` under `wrappingKey` with `mechanism` inside the module; the objects are destroyed after. */
function wrapIn(module: Module, mechanism: number, wrappingKey: Buffer, key: Buffer): Buffer {
  const wrapping = aesKey(module, wrappingKey, 'wrapping');
  const wrapped = aesKey(module, key, 'wrapped');
  try {
    return Buffer.from(module.pkcs11.C_WrapKey(module.session, { mechanism }, wrapping, wrapped, Buffer.alloc(64)));
  } finally {
    module.pkcs11.C_DestroyObject(module.session, wrapping);
    module.pkcs11.C_DestroyObject(module.session, wrapped);
  }
}

/** Unwraps `blob` inside the module and reads the key back (a session object made readable for the test). */
function unwrapIn(module: Module, mechanism: number, wrappingKey: Buffer, blob: Buffer): Buffer {
  const wrapping = aesKey(module, wrappingKey, 'wrapping');
  try {
    const key = module.pkcs11.C_UnwrapKey(module.session, { mechanism }, wrapping, blob, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_SENSITIVE, value: false },
      { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    ]);
    const [value] = module.pkcs11.C_GetAttributeValue(module.session, key, [{ type: pkcs11js.CKA_VALUE }]);
    module.pkcs11.C_DestroyObject(module.session, key);
    return value!.value;
  } finally {
    module.pkcs11.C_DestroyObject(module.session, wrapping);
  }
}

const nodeWrap = (wrappingKey: Buffer, key: Buffer): Buffer => {
  const cipher = createCipheriv('id-aes256-wrap', wrappingKey, Buffer.alloc(8, 0xa6));
  return Buffer.concat([cipher.update(key), cipher.final()]);
};
const nodeWrapPad = (wrappingKey: Buffer, key: Buffer): Buffer => {
  const cipher = createCipheriv('id-aes256-wrap-pad', wrappingKey, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([cipher.update(key), cipher.final()]);
};

describe('issue 14 §portability: one wrap, three implementations (SoftHSM2, NSS softoken, node:crypto)', () => {
  let softhsm: Module;
  let nss: Module;
  let nssPkcs11: pkcs11js.PKCS11 | undefined;
  beforeAll(() => {
    // No root key opens SoftHSM2 in this process: the raw handle needs the run token's configuration.
    process.env.SOFTHSM2_CONF = inject('softhsm').conf;
    const raw = rawPkcs11Session();
    softhsm = { name: 'SoftHSM2', pkcs11: raw.pkcs11, session: raw.session, slot: raw.slot };
    const token = createNssSoftoken({ label: 'keystrata-nss-cross' });
    nssPkcs11 = new pkcs11js.PKCS11();
    nssPkcs11.load(token.module);
    nssPkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK, libraryParameters: `${token.libraryParameters}\u0000` });
    const slot = nssPkcs11.C_GetSlotList(true).find((s) => nssPkcs11!.C_GetTokenInfo(s).label.trim() === token.tokenLabel)!;
    const session = nssPkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    nss = { name: 'NSS softoken', pkcs11: nssPkcs11, session, slot };
  });
  afterAll(() => {
    softhsm?.pkcs11.C_CloseSession(softhsm.session);
    nssPkcs11?.C_Finalize();
  });

  it('issue 14 §portability: CKM_AES_KEY_WRAP (0x2109) of a 32-byte key is byte-identical on SoftHSM2, NSS softoken and node:crypto id-aes256-wrap, and each unwraps the others', () => {
    const wrappingKey = hex('7c4d0f1e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5');
    const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    const expected = nodeWrap(wrappingKey, key);
    expect(expected.length).toBe(40);
    for (const module of [softhsm, nss]) {
      expect(wrapIn(module, pkcs11js.CKM_AES_KEY_WRAP, wrappingKey, key).toString('hex'), module.name).toBe(expected.toString('hex'));
      expect(unwrapIn(module, pkcs11js.CKM_AES_KEY_WRAP, wrappingKey, expected).toString('hex'), module.name).toBe(key.toString('hex'));
    }
  });

  it('issue 14 §portability: the RFC 3394 §4.6 vector and every valid 256-bit/32-byte Wycheproof aes_wrap case wrap to the published bytes on both modules', () => {
    const rfc = loadRfcKeyWrapVectors().find((v) => v.name === 'RFC3394 4.6')!;
    const wycheproof = loadWycheproof('aes_wrap_test.json')
      .filter((g) => g.keySize === 256)
      .flatMap((g) => g.tests)
      .filter((t) => t.result === 'valid' && String(t.msg).length === 64);
    const cases = [
      { name: rfc.name, kek: rfc.kek, key: rfc.keyData, wrapped: rfc.wrapped },
      ...wycheproof.map((t) => ({ name: `tcId ${t.tcId}`, kek: String(t.key), key: String(t.msg), wrapped: String(t.ct) })),
    ];
    expect(cases.length).toBe(5);
    for (const c of cases) {
      expect(nodeWrap(hex(c.kek), hex(c.key)).toString('hex'), `node ${c.name}`).toBe(c.wrapped);
      for (const module of [softhsm, nss]) expect(wrapIn(module, pkcs11js.CKM_AES_KEY_WRAP, hex(c.kek), hex(c.key)).toString('hex'), `${module.name} ${c.name}`).toBe(c.wrapped);
    }
  });

  it('issue 14 §portability: CKM_AES_KEY_WRAP_PAD (0x210A) is RFC 5649 (40 bytes) on SoftHSM2 and RFC 3394 over a PKCS#7-padded key (48 bytes) on NSS, and neither unwraps the other', () => {
    const wrappingKey = hex('a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf');
    const key = hex('f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff');
    const onSoftHsm = wrapIn(softhsm, pkcs11js.CKM_AES_KEY_WRAP_PAD, wrappingKey, key);
    const onNss = wrapIn(nss, pkcs11js.CKM_AES_KEY_WRAP_PAD, wrappingKey, key);
    expect(onSoftHsm.length).toBe(40);
    expect(onSoftHsm.toString('hex')).toBe(nodeWrapPad(wrappingKey, key).toString('hex'));
    expect(onNss.length).toBe(48);
    expect(onNss.toString('hex')).toBe(nodeWrap(wrappingKey, Buffer.concat([key, Buffer.alloc(8, 8)])).toString('hex'));
    expect(unwrapIn(softhsm, pkcs11js.CKM_AES_KEY_WRAP_PAD, wrappingKey, onSoftHsm).toString('hex')).toBe(key.toString('hex'));
    expect(unwrapIn(nss, pkcs11js.CKM_AES_KEY_WRAP_PAD, wrappingKey, onNss).toString('hex')).toBe(key.toString('hex'));
    expect(() => unwrapIn(softhsm, pkcs11js.CKM_AES_KEY_WRAP_PAD, wrappingKey, onNss)).toThrow(/CKR_/);
    expect(() => unwrapIn(nss, pkcs11js.CKM_AES_KEY_WRAP_PAD, wrappingKey, onSoftHsm)).toThrow(/CKR_/);
  });

  it('issue 14 §portability: both modules list both wrap mechanisms with CKF_WRAP and CKF_UNWRAP; CKM_AES_KEY_WRAP is chosen, CKM_AES_KEY_WRAP_PAD only where 0x2109 is not listed, and neither means no wrap mechanism', () => {
    for (const module of [softhsm, nss]) {
      const listed = new Set(module.pkcs11.C_GetMechanismList(module.slot));
      expect(chooseWrapMechanism(module.pkcs11, module.slot, listed), module.name).toEqual({ supported: new Set([0x2109, 0x210a]), write: 0x2109 });
      listed.delete(pkcs11js.CKM_AES_KEY_WRAP);
      expect(chooseWrapMechanism(module.pkcs11, module.slot, listed), module.name).toEqual({ supported: new Set([0x210a]), write: 0x210a });
      listed.delete(pkcs11js.CKM_AES_KEY_WRAP_PAD);
      expect(chooseWrapMechanism(module.pkcs11, module.slot, listed), module.name).toBeUndefined();
    }
  });
});
