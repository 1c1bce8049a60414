import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as pkcs11js from 'pkcs11js';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, createSqliteDriver } from '../src/index.js';
import { rawPkcs11Session } from './stacks.js';

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );
const context = (segment: string) => ({ model: 'P', field: 'f', recordId: 'r', segment });

/** Each test: its own audit key label on the run's token, and its own SQLite file. */
async function setup() {
  const token = inject('softhsm');
  const auditKeyLabel = `audit-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const open = () => Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment, auditKeyLabel });
  const file = join(mkdtempSync(join(tmpdir(), 'keystrata-audit-')), 'keys.db');
  const rootKey = await open();
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
  const h = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix: auditKeyLabel });
  /** A second process's view: a new root key (no cached handles) over the same store. */
  const reopen = async () => KeyHierarchy.create({ rootKey: await open(), keyStore: new SqlKeyStore(await createSqliteDriver({ database: file })), cmkLabelPrefix: auditKeyLabel });
  const sql = (statement: string) => {
    const db = new Database(file);
    db.prepare(statement).run();
    db.close();
  };
  return { token, auditKeyLabel, rootKey, keyStore, h, reopen, sql, openRootKey: open };
}

/** The attacker's raw handle on the token (a PIN holder). */
function attacker(): { pkcs11: pkcs11js.PKCS11; session: Buffer; find: (label: string) => Buffer[] } {
  const { pkcs11, session } = rawPkcs11Session();
  const find = (label: string) => {
    pkcs11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: label }]);
    const found = pkcs11.C_FindObjects(session, 8);
    pkcs11.C_FindObjectsFinal(session);
    return found;
  };
  return { pkcs11, session, find };
}

describe('the audit trail is keyed by a recorded audit key and cannot be emptied or truncated unnoticed (issue 11 §5)', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('issue 11 §5: auditMac never creates the audit key; a new trail creates it explicitly and records its id and key check value first', async () => {
    const s = await setup();
    closers.push(() => s.h.close());
    expect(await s.rootKey.auditKeyIdentity()).toBeUndefined();
    expect(await codeOf(s.rootKey.auditMac(Buffer.from('x')))).toBe('AUDIT_KEY_MISMATCH');
    expect(await s.rootKey.auditKeyIdentity()).toBeUndefined();
    await s.h.provision();
    const identity = await s.rootKey.auditKeyIdentity();
    expect(identity).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{32}$/), checkValue: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const [first, second] = await s.h.listAudit();
    expect(first).toMatchObject({ seq: 1, event: 'audit-key', subject: 'audit-key' });
    // Since issue 11 §5 (review) it also names the store id the records' MACs cover (keystrata-audit-v2).
    expect(JSON.parse(first!.details)).toEqual({ hsmId: identity!.id, checkValue: identity!.checkValue, storeId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(second).toMatchObject({ seq: 2, event: 'generate' });
    expect(await s.h.verifyAudit()).toMatchObject({ records: 3 });
  });

  it('issue 11 §5: a deleted audit key is not re-created: recording and verifying fail with AUDIT_KEY_MISMATCH', async () => {
    const s = await setup();
    closers.push(() => s.h.close());
    await s.h.provision();
    const { pkcs11, session, find } = attacker();
    for (const handle of find(s.auditKeyLabel)) pkcs11.C_DestroyObject(session, handle);
    const other = await s.reopen();
    closers.push(() => other.close());
    expect(await codeOf(other.verifyAudit())).toBe('AUDIT_KEY_MISMATCH');
    expect(await codeOf(other.encryptValue('canary', context('new-segment')))).toBe('AUDIT_KEY_MISMATCH');
    expect(find(s.auditKeyLabel)).toEqual([]);
    pkcs11.C_CloseSession(session);
  });

  it('issue 11 §5: an audit key replaced on the token (same label, another key) cannot extend or verify the trail', async () => {
    const s = await setup();
    closers.push(() => s.h.close());
    await s.h.provision();
    const { pkcs11, session, find } = attacker();
    for (const handle of find(s.auditKeyLabel)) pkcs11.C_DestroyObject(session, handle);
    pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_LABEL, value: s.auditKeyLabel },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_VERIFY, value: true },
    ]);
    const other = await s.reopen();
    closers.push(() => other.close());
    expect(await codeOf(other.verifyAudit())).toBe('AUDIT_KEY_MISMATCH');
    expect(await codeOf(other.rotateKek())).toBe('AUDIT_KEY_MISMATCH');
    pkcs11.C_CloseSession(session);
  });

  it('issue 11 §5: an audit key planted beside the recorded one is ignored, and a clone with the recorded id is refused (HSM_OBJECT_UNSAFE)', async () => {
    const s = await setup();
    closers.push(() => s.h.close());
    await s.h.provision();
    const recordedId = JSON.parse((await s.h.listAudit())[0]!.details).hsmId as string;
    const { pkcs11, session, find } = attacker();
    const plant = (id: Buffer) =>
      pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_LABEL, value: s.auditKeyLabel },
        { type: pkcs11js.CKA_ID, value: id },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_VERIFY, value: true },
      ]);
    plant(Buffer.alloc(16, 0)); // sorts first, but the trail names its own key
    const other = await s.reopen();
    closers.push(() => other.close());
    await other.rotateKek();
    expect(await other.verifyAudit()).toMatchObject({ records: 5 });
    plant(Buffer.from(recordedId, 'hex'));
    const third = await s.reopen();
    closers.push(() => third.close());
    expect(await codeOf(third.verifyAudit())).toBe('HSM_OBJECT_UNSAFE');
    expect(await codeOf(third.rotateKek())).toBe('HSM_OBJECT_UNSAFE');
    expect(find(s.auditKeyLabel)).toHaveLength(3);
    pkcs11.C_CloseSession(session);
  });

  it('issue 11 §5: two hierarchies (two root keys) starting one trail at once write one audit-key record and both verify', async () => {
    const s = await setup();
    closers.push(() => s.h.close());
    const other = await KeyHierarchy.create({ rootKey: await s.openRootKey(), keyStore: s.keyStore, cmkLabelPrefix: s.auditKeyLabel });
    closers.push(() => other.close());
    await Promise.all([s.h.provision(), other.provision('second')]);
    const records = await s.h.listAudit();
    expect(records.filter((r) => r.event === 'audit-key')).toHaveLength(1);
    expect(records[0]!.event).toBe('audit-key');
    expect(await s.h.verifyAudit()).toMatchObject({ records: records.length });
    expect(await other.verifyAudit()).toMatchObject({ records: records.length });
  });

  it('issue 11 §5: an audit key replaced under a running process with one of the same label and id is refused by its key check value', async () => {
    const s = await setup();
    closers.push(() => s.h.close());
    await s.h.provision();
    const recordedId = JSON.parse((await s.h.listAudit())[0]!.details).hsmId as string;
    const { pkcs11, session, find } = attacker();
    for (const handle of find(s.auditKeyLabel)) pkcs11.C_DestroyObject(session, handle);
    pkcs11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_LABEL, value: s.auditKeyLabel },
      { type: pkcs11js.CKA_ID, value: Buffer.from(recordedId, 'hex') },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_COPYABLE, value: false },
      { type: pkcs11js.CKA_MODIFIABLE, value: false },
    ]);
    const before = (await s.h.listAudit()).length;
    // The running process already checked its key once; the replacement must still be caught.
    expect(await codeOf(s.h.rotateKek())).toBe('AUDIT_KEY_MISMATCH');
    expect(await codeOf(s.h.verifyAudit())).toBe('AUDIT_KEY_MISMATCH');
    const other = await s.reopen();
    closers.push(() => other.close());
    expect(await codeOf(other.verifyAudit())).toBe('AUDIT_KEY_MISMATCH');
    expect(await codeOf(other.encryptValue('canary', context('new-segment')))).toBe('AUDIT_KEY_MISMATCH');
    expect((await s.h.listAudit()).length).toBe(before);
    pkcs11.C_CloseSession(session);
  });

  it('issue 11 §5: an emptied trail over a key store that holds keys does not verify', async () => {
    const s = await setup();
    closers.push(() => s.h.close());
    await s.h.provision();
    s.sql('DELETE FROM keystrata_audit');
    const error = await s.h.verifyAudit().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'AUDIT_CHAIN_BROKEN' });
    expect(String((error as Error).message)).toMatch(/never recorded as generated.*emptied/);
  });

  it('issue 11 §5: a truncated trail (tail deleted, chain still consistent) does not verify: a KEK version has no generate record', async () => {
    const s = await setup();
    closers.push(() => s.h.close());
    await s.h.provision();
    const before = await s.h.verifyAudit();
    await s.h.rotateKek();
    s.sql(`DELETE FROM keystrata_audit WHERE seq > ${before.headSeq}`);
    const error = await s.h.verifyAudit().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'AUDIT_CHAIN_BROKEN' });
    expect(String((error as Error).message)).toMatch(/kek:default:v2/);
  });

  it('issue 11 §5: verify with a head saved elsewhere detects a deleted tail that no key record reveals, and a rewritten head', async () => {
    const s = await setup();
    closers.push(() => s.h.close());
    await s.h.provision();
    await s.h.disable({ kind: 'segment', segment: 'nobody' }).catch(() => undefined);
    await s.h.encryptValue('canary', context('s1'));
    const saved = await s.h.verifyAudit();
    expect(await s.h.verifyAudit({ head: { seq: saved.headSeq, mac: saved.headMac } })).toMatchObject({ headSeq: saved.headSeq });
    expect(await codeOf(s.h.verifyAudit({ head: { seq: saved.headSeq, mac: Buffer.alloc(32).toString('base64') } }))).toBe('AUDIT_CHAIN_BROKEN');
    s.sql(`DELETE FROM keystrata_audit WHERE seq = ${saved.headSeq}`);
    // The writing process knows its last record (issue 11 §5 review); another process, without the
    // saved head, cannot tell a deleted last record from a trail that ended there.
    expect(await codeOf(s.h.verifyAudit())).toBe('AUDIT_CHAIN_BROKEN');
    const other = await s.reopen();
    closers.push(() => other.close());
    expect(await other.verifyAudit()).toMatchObject({ headSeq: saved.headSeq - 1 });
    const error = await s.h.verifyAudit({ head: { seq: saved.headSeq, mac: saved.headMac } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'AUDIT_CHAIN_BROKEN', details: { seq: saved.headSeq } });
    expect(String((error as Error).message)).toMatch(/tail was deleted/);
  });
});
