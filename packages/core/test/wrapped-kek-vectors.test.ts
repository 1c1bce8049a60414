import { createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pkcs11js from 'pkcs11js';
import { describe, expect, inject, it } from 'vitest';
import { kwpUnwrap } from '../src/crypto/aes-kwp.js';
import { CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD, encodeWrappedKek, parseWrappedKek } from '../src/root-key/wrapped-kek-format.js';
import { rawPkcs11Session } from './stacks.js';

// Issue 14 §portability: the stored wrapped-KEK format is pinned by committed vectors
// (test/vectors/wrapped-keks.json, appended by scripts/make-format-vectors.mjs; never edited).

interface WrappedKekVector {
  name: string;
  cmkHex: string;
  kekHex: string;
  mechanism: 'CKM_AES_KEY_WRAP' | 'CKM_AES_KEY_WRAP_PAD';
  bodyHex: string;
  wrappedBase64: string;
}
const file = join(dirname(fileURLToPath(import.meta.url)), 'vectors', 'wrapped-keks.json');
const { vectors } = JSON.parse(readFileSync(file, 'utf8')) as { vectors: WrappedKekVector[] };
const hex = (text: string): Buffer => Buffer.from(text, 'hex');
const MECHANISMS = { CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD } as const;

/** RFC 3394 unwrap with node:crypto (id-aes256-wrap, default IV A6…A6). */
const rfc3394Unwrap = (cmk: Buffer, body: Buffer): Buffer => {
  const decipher = createDecipheriv('id-aes256-wrap', cmk, Buffer.alloc(8, 0xa6));
  return Buffer.concat([decipher.update(body), decipher.final()]);
};

describe('issue 14 §portability: wrapped KEK known-answer vectors', () => {
  it('issue 14 §portability: every committed wrapped KEK parses to its named mechanism and body, and encodeWrappedKek rebuilds the stored bytes', () => {
    expect(vectors.map((v) => v.name)).toEqual(expect.arrayContaining(['kw1/aes-key-wrap/0', 'kw1/aes-key-wrap-pad/rfc5649', 'kw1/aes-key-wrap-pad/nss-pkcs7', 'legacy-rfc5649/0']));
    for (const v of vectors) {
      const stored = Buffer.from(v.wrappedBase64, 'base64');
      const parsed = parseWrappedKek(stored);
      expect(parsed.mechanism, v.name).toBe(MECHANISMS[v.mechanism]);
      expect(parsed.body.toString('hex'), v.name).toBe(v.bodyHex);
      expect(parsed.legacy, v.name).toBe(v.name.startsWith('legacy-'));
      if (!parsed.legacy) expect(encodeWrappedKek(parsed.mechanism, parsed.body).equals(stored), v.name).toBe(true);
      else expect(stored.length, v.name).toBe(40);
    }
  });

  it('issue 14 §portability: each committed body opens with plain node:crypto under the committed CMK bytes (RFC 3394, RFC 5649, or RFC 3394 over the KEK and PKCS#7 padding)', () => {
    for (const v of vectors) {
      const body = hex(v.bodyHex);
      const cmk = hex(v.cmkHex);
      let kek: Buffer;
      if (v.mechanism === 'CKM_AES_KEY_WRAP') kek = rfc3394Unwrap(cmk, body);
      else if (body.length === 48) {
        const padded = rfc3394Unwrap(cmk, body);
        expect(padded.subarray(32).equals(Buffer.alloc(8, 8)), v.name).toBe(true);
        kek = padded.subarray(0, 32);
      } else kek = Buffer.from(kwpUnwrap(cmk, body, 32).exposeSecretBytes());
      expect(kek.toString('hex'), v.name).toBe(v.kekHex);
    }
  });

  it('issue 14 §portability: SoftHSM2 wraps the committed KEK under the committed CMK bytes (a session key) to exactly the committed body, for CKM_AES_KEY_WRAP and its RFC 5649 CKM_AES_KEY_WRAP_PAD', () => {
    process.env.SOFTHSM2_CONF ??= inject('softhsm').conf;
    const { pkcs11, session } = rawPkcs11Session();
    const key = (value: Buffer, wrapping: boolean): Buffer =>
      pkcs11.C_CreateObject(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_VALUE, value },
        ...(wrapping ? [{ type: pkcs11js.CKA_WRAP, value: true }] : [{ type: pkcs11js.CKA_EXTRACTABLE, value: true }]),
      ]);
    const softhsmVectors = vectors.filter((v) => hex(v.bodyHex).length === 40);
    expect(softhsmVectors.length).toBe(5);
    try {
      for (const v of softhsmVectors) {
        const cmk = key(hex(v.cmkHex), true);
        const kek = key(hex(v.kekHex), false);
        const body = Buffer.from(pkcs11.C_WrapKey(session, { mechanism: MECHANISMS[v.mechanism] }, cmk, kek, Buffer.alloc(64)));
        expect(body.toString('hex'), v.name).toBe(v.bodyHex);
        pkcs11.C_DestroyObject(session, cmk);
        pkcs11.C_DestroyObject(session, kek);
      }
    } finally {
      pkcs11.C_CloseSession(session);
    }
  });
});
