import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteDriver, KeyHierarchy, KeystrataError, SqlKeyStore, type FieldContext, type Pkcs11RootKey } from '../src/index.js';
import { envelopeDekId } from '../src/adapter.js';
import { attackerRecovers, blobsIn, rawBlobs, type Loot, type Victim } from './shred-attacker.js';
import { openTestRootKey, sqliteStack } from './stacks.js';

const ctx = (segment: string, recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });
const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

/** Copies the key store's database and WAL as they are now (what an attacker's old copy holds). */
function copyDatabaseFiles(file: string): { file: string; raw: Buffer[] } {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-attacker-'));
  const copy = join(dir, 'stolen.db');
  copyFileSync(file, copy);
  if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
  return { file: copy, raw: [readFileSync(copy), ...(existsSync(`${copy}-wal`) ? [readFileSync(`${copy}-wal`)] : [])] };
}

/** The key rows in a stolen copy (SQLite replays the copied WAL on open). */
function lootOf(file: string): Loot {
  const db = new Database(file);
  try {
    return {
      cmks: db.prepare('SELECT version, hsm_label AS hsmLabel, hsm_id AS hsmId FROM keystrata_cmk').all() as Loot['cmks'],
      keks: db.prepare('SELECT version, wrapped FROM keystrata_kek').all() as Loot['keks'],
      deks: db.prepare('SELECT id, wrapped FROM keystrata_dek').all() as Loot['deks'],
    };
  } finally {
    db.close();
  }
}

const currentFiles = (file: string): Buffer[] => [readFileSync(file), ...(existsSync(`${file}-wal`) ? [readFileSync(`${file}-wal`)] : [])];

describe('crypto-shredding against an attacker on SoftHSM2 and SQLite (integration)', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });

  it('issue 11 §1: after a durable shred, the PIN, the HSM, the old -wal/db files and an old backup give nothing back (SQLite)', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `shred-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const victimValues = await h.encryptValues([1, 2, 3].map((i) => ({ value: `canary-victim-${i}`, context: ctx('tenant:victim', `v${i}`) })));
    const survivorValues = await h.encryptValues([1, 2, 3].map((i) => ({ value: `canary-survivor-${i}`, context: ctx('tenant:survivor', `s${i}`) })));
    const victim: Victim = { ciphertext: victimValues[0]!, context: ctx('tenant:victim', 'v1'), dekId: envelopeDekId(victimValues[0]!), plaintext: 'canary-victim-1' };
    const oldBackup = JSON.parse(JSON.stringify(await h.exportBackup()));
    const stolen = copyDatabaseFiles(stack.file);
    const rows = lootOf(stolen.file);
    // Rows as SQLite reads the stolen copy, plus every blob-like string in its raw bytes (older page versions in the WAL).
    const raw = rawBlobs(stolen.raw);
    const loot: Loot = { cmks: rows.cmks, keks: [...rows.keks, ...raw.map((wrapped) => ({ version: 0, wrapped }))], deks: [...rows.deks, ...raw.map((wrapped) => ({ id: victim.dekId, wrapped }))] };
    const victimBlob = rows.deks.find((d) => d.id === victim.dekId)!.wrapped;
    expect(blobsIn(stolen.raw, [victimBlob])).toEqual([victimBlob]);

    const attackerRoot: Pkcs11RootKey = await openTestRootKey();
    closers.push(() => attackerRoot.close());
    // Before the shred the attacker's script works: the test can fail.
    expect(await attackerRecovers(attackerRoot, loot, stack.keyStore, victim)).not.toEqual([]);

    const impact = await h.destroy({ kind: 'segment', segment: 'tenant:victim' });
    expect(impact.durableAt).toEqual(expect.any(String));

    // 1. Old KEK blobs under every CMK version (old and live) on a second PKCS#11 handle; live KEKs on old DEK blobs.
    expect(await attackerRecovers(attackerRoot, loot, stack.keyStore, victim)).toEqual([]);
    // 2. The old blobs are gone from the live database file and its WAL (secure_delete + checkpoint).
    expect(blobsIn(currentFiles(stack.file), [victimBlob, ...rows.keks.map((k) => k.wrapped)])).toEqual([]);
    // 3. The old backup restored into an empty store: everything under the destroyed CMK restores as destroyed.
    const emptyStore = await stack.freshKeyStore();
    const restoredHierarchy = await KeyHierarchy.create({ rootKey: attackerRoot, keyStore: emptyStore });
    const restored = await restoredHierarchy.importBackup(oldBackup);
    expect(restored.missingInHsm.length).toBeGreaterThan(0);
    expect(await codeOf(restoredHierarchy.decryptValue(victim.ciphertext, victim.context))).toBe('KEY_DESTROYED');
    expect((await emptyStore.loadDekChains([victim.dekId]))[0]?.dek).toMatchObject({ state: 'destroyed', wrapped: '' });
    // 4. The old backup restored into the live store: the destroyed DEK stays destroyed, never primary.
    expect((await h.importBackup(oldBackup)).deks).toBe(0);
    h.clearCache();
    expect(await codeOf(h.decryptValue(victim.ciphertext, victim.context))).toBe('KEY_DESTROYED');
    expect(await codeOf(h.encryptValue('new', ctx('tenant:victim', 'v9')))).toBe('KEY_DESTROYED');
    // Surviving segments still decrypt, from a cold cache.
    expect(await h.decryptValues(survivorValues.map((ciphertext, i) => ({ ciphertext, context: ctx('tenant:survivor', `s${i + 1}`) })))).toEqual([
      'canary-survivor-1',
      'canary-survivor-2',
      'canary-survivor-3',
    ]);
    const status = (await h.status()).keyrings.find((k) => k.keyring === 'default')!.shreds;
    expect(status.keys.find((k) => k.id === victim.dekId)).toMatchObject({ kind: 'dek', durableAt: expect.any(String) });
    await h.verifyAudit();
  });

  it('issue 11 §1: concurrent durable destroys in one process queue their epochs: one primary CMK, the rest decrypts', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `shred-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const values = await h.encryptValues(['a', 'b', 'c', 'd', 'e'].map((s) => ({ value: `canary-${s}`, context: ctx(s, 'r1') })));
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((segment) => h.destroy({ kind: 'segment', segment })));
    for (const result of results) expect(result.durableAt).toEqual(expect.any(String));
    const cmks = await stack.keyStore.listCmks('default');
    expect(cmks.filter((c) => c.state !== 'retired').map((c) => c.state)).toEqual(['primary']);
    expect((await h.status()).keyrings[0]!.shreds).toMatchObject({ pending: 0 });
    h.clearCache();
    expect(await h.decryptValue(values[4]!, ctx('e', 'r1'))).toBe('canary-e');
  });

  it('issue 11 §1: raw SQL deleting the destroyed DEK, its tombstones and the old KEK rows, then restoring the old backup, brings nothing back', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `shred-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const [gone, kept] = await h.encryptValues([
      { value: 'canary-gone', context: ctx('tenant:gone', 'g1') },
      { value: 'canary-kept', context: ctx('tenant:kept', 'k1') },
    ]);
    const oldBackup = JSON.parse(JSON.stringify(await h.exportBackup()));
    await h.destroy({ kind: 'segment', segment: 'tenant:gone' });
    const db = new Database(stack.file);
    db.prepare('DELETE FROM keystrata_dek WHERE id = ?').run(envelopeDekId(gone!));
    db.prepare('DELETE FROM keystrata_tombstone').run();
    db.prepare("DELETE FROM keystrata_kek WHERE state = 'destroyed'").run();
    db.prepare("DELETE FROM keystrata_cmk WHERE state = 'retired'").run();
    db.close();
    const restored = await h.importBackup(oldBackup);
    expect(restored).toMatchObject({ deks: 1, restoredDestroyed: 3 });
    h.clearCache();
    expect(await codeOf(h.decryptValue(gone!, ctx('tenant:gone', 'g1')))).toBe('KEY_DESTROYED');
    expect((await stack.keyStore.loadDekChains([envelopeDekId(gone!)]))[0]?.dek).toMatchObject({ state: 'destroyed', wrapped: '' });
    expect(await h.decryptValue(kept!, ctx('tenant:kept', 'k1'))).toBe('canary-kept');
  });

  it("issue 11 §1: a restored backup never adds a second primary CMK or KEK beside the store's", async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `shred-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const value = await h.encryptValue('canary', ctx('s1', 'r1'));
    const oldBackup = JSON.parse(JSON.stringify(await h.exportBackup()));
    await h.rotateCmk();
    await h.rotateKek();
    const db = new Database(stack.file);
    db.prepare('DELETE FROM keystrata_cmk WHERE version = 1').run();
    db.prepare('DELETE FROM keystrata_kek WHERE version = 1').run();
    db.close();
    expect(await h.importBackup(oldBackup)).toMatchObject({ cmks: 1, keks: 1, restoredDestroyed: 0 });
    expect((await stack.keyStore.listCmks('default')).map((c) => [c.version, c.state])).toEqual([
      [1, 'enabled'],
      [2, 'primary'],
    ]);
    expect((await stack.keyStore.listKeks('default')).map((k) => [k.version, k.state])).toEqual([
      [1, 'enabled'],
      [2, 'primary'],
    ]);
    h.clearCache();
    expect(await h.decryptValue(value, ctx('s1', 'r1'))).toBe('canary');
  });

  it('issue 11 §1: two epochs started at once on two connections: the loser stops with ROTATION_IN_PROGRESS, nothing live is lost', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const prefix = `race-${Math.random().toString(36).slice(2)}`;
    const one = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    await one.provision();
    const secondStore = new SqlKeyStore(await createSqliteDriver({ database: stack.file }));
    closers.push(() => secondStore.close());
    const two = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: secondStore, cmkLabelPrefix: prefix });
    const values = await one.encryptValues(['a', 'b', 'c'].map((s) => ({ value: `canary-${s}`, context: ctx(s, 'r1') })));
    await one.destroy({ kind: 'segment', segment: 'a' }, { durable: 'deferred' });
    const outcomes = await Promise.allSettled([one.completeShreds(), two.completeShreds()]);
    const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : KeystrataError.isInstance(o.reason) ? o.reason.code : `untyped: ${String(o.reason)}`));
    expect(codes).toContain('ok');
    for (const code of codes) expect(['ok', 'ROTATION_IN_PROGRESS']).toContain(code);
    await one.completeShreds();
    const cmks = await stack.keyStore.listCmks('default');
    expect(cmks.filter((c) => c.state === 'primary')).toHaveLength(1);
    expect((await one.status()).keyrings[0]!.shreds).toMatchObject({ pending: 0 });
    for (const hierarchy of [one, two]) {
      hierarchy.clearCache();
      expect(await hierarchy.decryptValues(['b', 'c'].map((s, i) => ({ ciphertext: values[i + 1]!, context: ctx(s, 'r1') })))).toEqual(['canary-b', 'canary-c']);
      expect(await codeOf(hierarchy.decryptValue(values[0]!, ctx('a', 'r1')))).toBe('KEY_DESTROYED');
    }
  });

  it('issue 11 §1: the key store connection has secure_delete on, also a connection the application passes in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keystrata-secure-'));
    const db = new Database(join(dir, 'app.db'));
    closers.push(async () => void db.close());
    expect(db.pragma('secure_delete', { simple: true })).toBe(0);
    const driver = await createSqliteDriver({ database: db });
    expect(db.pragma('secure_delete', { simple: true })).toBe(1);
    await driver.close();
  });
});
