import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pkcs11js from 'pkcs11js';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createSqliteDriver, KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, type FieldContext } from '../src/index.js';
import { rawPkcs11Session } from './stacks.js';

// Issue 14 §portability: every wrapped KEK names the mechanism that wrapped it ('kw' ‖ 1 ‖ u32 CKM_),
// the default is the portable CKM_AES_KEY_WRAP (0x2109), and bare 40-byte RFC 5649 blobs from before
// stay readable. Written as the attacker: raw SQL on the SQLite key store and a raw PKCS#11 session
// with the PIN; the application (an empty cache: a fresh process's view) then reads.

const ctx = (segment: string, recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });
const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

async function setup() {
  const token = inject('softhsm');
  const root = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
  opened.push(root);
  const file = join(mkdtempSync(join(tmpdir(), 'wrapped-kek-')), 'keys.db');
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
  opened.push(keyStore);
  const h = await KeyHierarchy.create({ rootKey: root, keyStore, cmkLabelPrefix: `kw-${Math.random().toString(36).slice(2)}` });
  await h.provision();
  const db = (): Database.Database => new Database(file);
  const kekRow = (version = 1): { wrapped: Buffer; cmkVersion: number } => {
    const connection = db();
    try {
      const row = connection.prepare('SELECT wrapped, cmk_version FROM keystrata_kek WHERE version = ?').get(version) as { wrapped: string; cmk_version: number };
      return { wrapped: Buffer.from(row.wrapped, 'base64'), cmkVersion: row.cmk_version };
    } finally {
      connection.close();
    }
  };
  const writeKek = (wrapped: Buffer, version = 1): void => {
    const connection = db();
    connection.prepare('UPDATE keystrata_kek SET wrapped = ? WHERE version = ?').run(wrapped.toString('base64'), version);
    connection.close();
  };
  const cmkOf = (version: number): { label: string; id: string } => {
    const connection = db();
    try {
      const row = connection.prepare('SELECT hsm_label, hsm_id FROM keystrata_cmk WHERE version = ?').get(version) as { hsm_label: string; hsm_id: string };
      return { label: row.hsm_label, id: row.hsm_id };
    } finally {
      connection.close();
    }
  };
  const unwrapFailures = async () => (await h.listAudit()).filter((r) => r.event === 'unwrap-failed').length;
  return { h, root, kekRow, writeKek, cmkOf, unwrapFailures };
}

/** With the PIN and a raw session: rewraps a stored KEK body under its CMK with another mechanism (how a pre-issue-14 store looked). */
function rewrapRaw(cmk: { label: string; id: string }, body: Buffer, from: number, to: number): Buffer {
  const { pkcs11, session } = rawPkcs11Session();
  try {
    pkcs11.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_LABEL, value: cmk.label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(cmk.id, 'hex') },
    ]);
    const [handle] = pkcs11.C_FindObjects(session, 2);
    pkcs11.C_FindObjectsFinal(session);
    const kek = pkcs11.C_UnwrapKey(session, { mechanism: from }, handle!, body, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    ]);
    try {
      return Buffer.from(pkcs11.C_WrapKey(session, { mechanism: to }, handle!, kek, Buffer.alloc(64)));
    } finally {
      pkcs11.C_DestroyObject(session, kek);
    }
  } finally {
    pkcs11.C_CloseSession(session);
  }
}

const withMechanism = (wrapped: Buffer, mechanism: number): Buffer => {
  const copy = Buffer.from(wrapped);
  copy.writeUInt32BE(mechanism, 3);
  return copy;
};

describe('issue 14 §portability: self-describing wrapped KEKs (SoftHSM2 + SQLite, raw SQL and a raw PKCS#11 session)', () => {
  it('issue 14 §portability: a new wrapped KEK is kw ‖ 1 ‖ CKM_AES_KEY_WRAP ‖ 40 bytes of RFC 3394, and the root key writes with 0x2109', async () => {
    const { h, root, kekRow } = await setup();
    const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
    const { wrapped } = kekRow();
    expect(root.wrapMechanism).toBe(0x2109);
    expect(wrapped.subarray(0, 7).toString('hex')).toBe('6b770100002109');
    expect(wrapped.length).toBe(47);
    h.clearCache();
    expect(await h.decryptValue(a, ctx('s1', 'r1'))).toBe('canary-a');
  });

  it('issue 14 §portability: a legacy bare 40-byte RFC 5649 KEK (a store from before) still reads, and CMK rotation rewrites it in the new format', async () => {
    const { h, kekRow, writeKek, cmkOf } = await setup();
    const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
    const legacy = rewrapRaw(cmkOf(1), kekRow().wrapped.subarray(7), 0x2109, 0x210a);
    expect(legacy.length).toBe(40);
    writeKek(legacy);
    h.clearCache();
    expect(await h.decryptValue(a, ctx('s1', 'r1'))).toBe('canary-a');
    expect(await h.rotateCmk()).toMatchObject({ version: 2, rewrapped: 1 });
    const after = kekRow();
    expect(after.cmkVersion).toBe(2);
    expect(after.wrapped.subarray(0, 7).toString('hex')).toBe('6b770100002109');
    h.clearCache();
    expect(await h.decryptValue(a, ctx('s1', 'r1'))).toBe('canary-a');
  });

  it('issue 14 §portability: a downgrade of the header (0x2109 rewritten to 0x210A, the header stripped, a legacy blob relabelled 0x2109) fails closed with KEYSTORE_TAMPERED, audited', async () => {
    const { h, kekRow, writeKek, cmkOf, unwrapFailures } = await setup();
    const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
    const original = kekRow().wrapped;
    const legacy = rewrapRaw(cmkOf(1), original.subarray(7), 0x2109, 0x210a);
    const forgeries = [
      withMechanism(original, 0x210a), // the same RFC 3394 bytes, now claimed to be CKM_AES_KEY_WRAP_PAD
      original.subarray(7), // header stripped: 40 bytes read as a legacy RFC 5649 blob
      Buffer.concat([original.subarray(0, 7), legacy]), // an RFC 5649 blob labelled CKM_AES_KEY_WRAP
    ];
    for (const [i, forged] of forgeries.entries()) {
      writeKek(forged);
      h.clearCache();
      expect(await codeOf(h.decryptValue(a, ctx('s1', 'r1'))), `forgery ${i}`).toBe('KEYSTORE_TAMPERED');
      expect(await codeOf(h.encryptValue('new', ctx('s1', 'r2'))), `forgery ${i}`).toBe('KEYSTORE_TAMPERED');
    }
    expect(await unwrapFailures()).toBeGreaterThanOrEqual(forgeries.length);
    writeKek(original);
    h.clearCache();
    expect(await h.decryptValue(a, ctx('s1', 'r1'))).toBe('canary-a');
    await h.verifyAudit();
  });

  it('issue 14 §portability: a header naming another mechanism (CKM_AES_ECB would decrypt anything with an unwrap-capable CMK), version or length never reaches the HSM', async () => {
    const { h, root, kekRow, writeKek, unwrapFailures } = await setup();
    const a = await h.encryptValue('canary-a', ctx('s1', 'r1'));
    const original = kekRow().wrapped;
    const versionTwo = Buffer.from(original);
    versionTwo[2] = 2;
    const forgeries = [withMechanism(original, 0x1081), withMechanism(original, 0x1085), versionTwo, Buffer.concat([original, Buffer.alloc(8)]), original.subarray(0, 39)];
    for (const [i, forged] of forgeries.entries()) {
      writeKek(forged);
      h.clearCache();
      const calls = root.stats.hsmCalls;
      expect(await codeOf(h.decryptValue(a, ctx('s1', 'r1'))), `forgery ${i}`).toBe('KEYSTORE_TAMPERED');
      expect(root.stats.hsmCalls - calls, `forgery ${i}: the audit record's MAC only, no unwrap`).toBe(1);
      expect(await codeOf(root.unwrapKek({ label: 'never-used', id: '00' }, forged)), `forgery ${i}`).toBe('CIPHERTEXT_TAMPERED');
    }
    expect(await unwrapFailures()).toBe(forgeries.length);
  });
});
