import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createNssSoftoken } from '@keystrata/testing';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSqliteDriver, encodeMemberCopies, KeyHierarchy, type MemberRootKey, openPkcs11Members, Pkcs11RootKey, reportRootMembers, SqlKeyStore, syncRootMember } from '../../src/index.js';
import { recordedAuditKey } from '../../src/audit/audit-key-check.js';
import { auditKeyCheckValue, loadAuditKeyCopies } from '../../src/root-key/members/member-audit-copies.js';
import { SecretKey } from '../../src/secret/secret-key.js';
// @ts-expect-error: a plain .mjs helper shared with the child processes
import { bringBack, createMemberToken, takeAway } from './member-tokens.mjs';
import { codeOf, type MemberToken, options } from './member-test-kit.js';

/** An independent member opened by hand, as `rootKey.addMember` takes it (openPkcs11Members sets acceptImportedAuditKey itself). */
const openMember = (t: MemberToken) => Pkcs11RootKey.open({ ...options(t), acceptImportedAuditKey: true });

const closing: Array<{ close(): Promise<void> }> = [];
const away: MemberToken[] = [];
afterEach(async () => {
  for (const token of away.splice(0)) bringBack(token);
  for (const thing of closing.splice(0).reverse()) await thing.close().catch(() => undefined);
});

/** Two independent members A and B start the trail (provision, two KEK versions, values); C is a fresh token, not yet a member. */
async function trailOnTwoMembers() {
  const [a, b, c] = ['a', 'b', 'c'].map((name) => createMemberToken(name) as MemberToken) as [MemberToken, MemberToken, MemberToken];
  const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)], probeIntervalMs: 50 });
  closing.push(rootKey);
  const file = join(mkdtempSync(join(tmpdir(), 'keystrata-audit-key-')), 'keys.db');
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
  closing.push(keyStore);
  const h = await KeyHierarchy.create({ rootKey, keyStore });
  await h.provision();
  const values: Array<{ ciphertext: string; context: { model: string; field: string; recordId: string; segment: string }; expected: string }> = [];
  for (let version = 1; version <= 2; version++) {
    if (version > 1) await h.rotateKek();
    const context = { model: 'P', field: 'f', recordId: `r${version}`, segment: `s${version}` };
    values.push({ ciphertext: await h.encryptValue(`canary-${version}`, context), context, expected: `canary-${version}` });
  }
  return { a, b, c, rootKey, keyStore, file, h, values };
}

/** The audit key's bytes as the test (holding every PIN) unwraps them from a stored copy, checked against the trail's check value. */
async function auditKeyBytes(rootKey: MemberRootKey, keyStore: SqlKeyStore): Promise<Buffer> {
  const kept = (await loadAuditKeyCopies(keyStore))!;
  const material = await rootKey.unwrapKek(kept.cmk, encodeMemberCopies(kept.copies));
  try {
    expect(auditKeyCheckValue(material)).toBe(recordedAuditKey((await keyStore.listAudit(0, 1))[0])!.checkValue);
    return Buffer.from(material.exposeSecretBytes());
  } finally {
    material.destroy();
  }
}

const files = (path: string): string[] => (statSync(path).isDirectory() ? readdirSync(path).flatMap((name) => files(join(path, name))) : [path]);

describe('issue 14 §audit key: an independent member added after the trail started receives the audit key', () => {
  it('issue 14 §audit key: a member added with add-member keeps the trail appending and verifying after both original members are taken away for real, with zero failed operations', async () => {
    const { a, b, c, rootKey, keyStore, h, values } = await trailOnTwoMembers();
    rootKey.addMember('c', await openMember(c));
    expect(await syncRootMember({ rootKey, keyStore, member: 'c' })).toMatchObject({ member: 'c', copiesAdded: 2, auditKey: 'imported' });
    const report = await reportRootMembers(rootKey, keyStore);
    expect(report.map((m) => [m.name, m.auditKey, m.auditKeyCopy])).toEqual([
      ['a', true, 'stored'],
      ['b', true, 'stored'],
      ['c', true, 'stored'],
    ]);

    // Both original members go away for real: token directories renamed, modules finalised under the root.
    takeAway(a);
    away.push(a);
    takeAway(b);
    away.push(b);
    const failed: string[] = [];
    const attempt = async (what: string, run: () => Promise<unknown>) => void (await run().catch((error: { code?: string }) => failed.push(`${what}: ${error.code ?? String(error)}`)));
    const before = (await keyStore.listAudit(0, 100000)).length;
    // Concurrent cold reads, new-segment writes (each audited) and a KEK rotation (audited), only C healthy.
    await Promise.all([
      ...Array.from({ length: 3 }, (_, reader) =>
        attempt(`read ${reader}`, async () => {
          for (let i = 0; i < 4; i++) {
            const fresh = await KeyHierarchy.create({ rootKey, keyStore });
            const batch = [...values]; // the writer appends to `values` meanwhile
            expect(await fresh.decryptValues(batch)).toEqual(batch.map((v) => v.expected));
          }
        }),
      ),
      attempt('write', async () => {
        for (let n = 0; n < 4; n++) {
          const context = { model: 'P', field: 'f', recordId: `w${n}`, segment: `new-${n}` };
          values.push({ ciphertext: await h.encryptValue(`written-${n}`, context), context, expected: `written-${n}` });
        }
      }),
      attempt('rotate', () => h.rotateKek()),
    ]);
    expect(failed).toEqual([]);
    expect(rootKey.stats.members!.map((m) => [m.name, m.state])).toEqual([
      ['a', 'unhealthy'],
      ['b', 'unhealthy'],
      ['c', 'healthy'],
    ]);
    const records = await keyStore.listAudit(0, 100000);
    // The trail kept appending through C alone: the members' state changes, the DEKs and the rotation.
    expect(records.length).toBeGreaterThan(before + 4);
    expect(
      records
        .filter((r) => r.event === 'member')
        .map((r) => JSON.parse(r.details) as { member: string; to?: string })
        .filter((d) => d.to === 'unhealthy')
        .map((d) => d.member)
        .sort(),
    ).toEqual(['a', 'b']);
    h.clearCache();
    expect(await h.decryptValues(values)).toEqual(values.map((v) => v.expected));
    expect((await h.verifyAudit()).records).toBe(records.length);
  }, 30_000);

  it('issue 14 §audit key: a member that was out when the trail started receives the audit key when it rejoins, and then MACs and verifies the trail alone', async () => {
    const [a, b] = ['a', 'b'].map((name) => createMemberToken(name) as MemberToken) as [MemberToken, MemberToken];
    // B is gone when the root opens and the trail starts: it starts unhealthy, and only A receives the audit key.
    takeAway(b);
    away.push(b);
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)], probeIntervalMs: 50 });
    closing.push(rootKey);
    const keyStore = new SqlKeyStore(await createSqliteDriver({ database: join(mkdtempSync(join(tmpdir(), 'keystrata-audit-key-')), 'keys.db') }));
    closing.push(keyStore);
    const h = await KeyHierarchy.create({ rootKey, keyStore });
    await h.provision();
    const context = { model: 'P', field: 'f', recordId: 'r1', segment: 's1' };
    const ciphertext = await h.encryptValue('canary', context);
    expect((await loadAuditKeyCopies(keyStore))!.copies.map((copy) => copy.member)).toEqual(['a']);
    // B returns: the probe sees it, and the background sync gives it its KEK copies and the audit key.
    bringBack(away.pop()!);
    await vi.waitFor(async () => expect((await loadAuditKeyCopies(keyStore))!.copies.map((copy) => copy.member)).toEqual(['a', 'b']), { timeout: 8000, interval: 50 });
    const syncs = (await keyStore.listAudit(0, 1000)).filter((r) => r.event === 'member' && r.subject === 'member:b').map((r) => JSON.parse(r.details) as Record<string, unknown>);
    expect(syncs).toContainEqual(expect.objectContaining({ action: 'sync', auditKey: 'imported' }));
    // Now A goes away for real: B alone MACs new records (a rotation, a new segment) and verifies the whole trail.
    takeAway(a);
    away.push(a);
    await h.rotateKek();
    await h.encryptValue('after', { ...context, recordId: 'r2', segment: 's2' });
    h.clearCache();
    expect(await h.decryptValue(ciphertext, context)).toBe('canary');
    expect(rootKey.stats.members!.map((m) => [m.name, m.state])).toEqual([
      ['a', 'unhealthy'],
      ['b', 'healthy'],
    ]);
    expect((await h.verifyAudit()).records).toBeGreaterThan(5);
  }, 20_000);

  it('issue 14 §audit key: an NSS softoken (a second PKCS#11 implementation) added with add-member receives the audit key from a SoftHSM2 copy, and MACs and verifies the trail alone once both SoftHSM2 members are gone', async () => {
    const { a, b, rootKey, keyStore, h, values } = await trailOnTwoMembers();
    const nss = createNssSoftoken({ label: 'member-n' });
    try {
      rootKey.addMember('n', await Pkcs11RootKey.open({ module: nss.module, libraryParameters: nss.libraryParameters, tokenLabel: nss.tokenLabel, pin: () => nss.pin, acceptImportedAuditKey: true }));
      expect(await syncRootMember({ rootKey, keyStore, member: 'n' })).toMatchObject({ copiesAdded: 2, auditKey: 'imported' });
      takeAway(a);
      away.push(a);
      takeAway(b);
      away.push(b);
      await h.rotateKek();
      h.clearCache();
      expect(await h.decryptValues(values)).toEqual(values.map((v) => v.expected));
      expect(rootKey.stats.members!.map((m) => [m.name, m.state])).toEqual([
        ['a', 'unhealthy'],
        ['b', 'unhealthy'],
        ['n', 'healthy'],
      ]);
      expect((await h.verifyAudit()).records).toBeGreaterThan(5);
    } finally {
      await rootKey.close();
      rmSync(nss.directory, { recursive: true, force: true });
    }
  }, 20_000);

  it("issue 14 §audit key: as the attacker with SQL on the key store (holding the members' PINs), a copy replaced by other bytes wrapped under the members' own audit-wrap CMK is refused at add-member, audited, and the new member gets no audit key", async () => {
    const { a, b, c, rootKey, keyStore, file, h } = await trailOnTwoMembers();
    const kept = (await loadAuditKeyCopies(keyStore))!;
    // The attacker wraps a key they know under each member's own audit-wrap CMK: the copies unwrap fine, to the wrong bytes.
    const known = SecretKey.takeOwnership(Buffer.alloc(32, 7));
    const planted = [];
    for (const token of [a, b]) {
      const attacker = await openMember(token);
      planted.push({ member: token.name, wrapped: await attacker.wrapKekBytes(kept.cmk, known) });
      await attacker.close();
    }
    const db = new Database(file);
    const row = db.prepare("SELECT data FROM keystrata_job WHERE id = 'audit-key-copies'").get() as { data: string };
    const data = JSON.parse(row.data) as Record<string, unknown>;
    db.prepare("UPDATE keystrata_job SET data = ? WHERE id = 'audit-key-copies'").run(JSON.stringify({ ...data, wrapped: encodeMemberCopies(planted).toString('base64') }));
    db.close();

    rootKey.addMember('c', await openMember(c));
    expect(await codeOf(syncRootMember({ rootKey, keyStore, member: 'c' }))).toBe('AUDIT_KEY_MISMATCH');
    const refusals = (await keyStore.listAudit(0, 1000)).filter((r) => r.event === 'member' && r.subject === 'member:c').map((r) => JSON.parse(r.details) as Record<string, string>);
    expect(refusals).toContainEqual({ action: 'audit-key', result: 'refused', code: 'AUDIT_KEY_MISMATCH' });
    // Nothing was imported into C: it holds no audit key at all, and its stored copy is not written.
    const onC = await openMember(c);
    closing.push(onC);
    expect(await onC.auditKeyIdentity()).toBeUndefined();
    expect((await loadAuditKeyCopies(keyStore))!.copies.map((copy) => copy.member)).toEqual(['a', 'b']);
    expect((await reportRootMembers(rootKey, keyStore)).find((m) => m.name === 'c')).toMatchObject({ auditKey: false, auditKeyCopy: 'missing' });
    await h.verifyAudit();
    known.destroy();
  });

  it("issue 14 §audit key: as the attacker with SQL, a stored row pointing at a keyring's CMK and a KEK's copies (to have a member unwrap a KEK there) is refused before any unwrap, audited, and nothing is imported", async () => {
    const { c, rootKey, keyStore, file } = await trailOnTwoMembers();
    const [cmk] = await keyStore.listCmks('default');
    const [kek] = await keyStore.listKeks('default');
    const db = new Database(file);
    const data = JSON.parse((db.prepare("SELECT data FROM keystrata_job WHERE id = 'audit-key-copies'").get() as { data: string }).data) as Record<string, unknown>;
    db.prepare("UPDATE keystrata_job SET data = ? WHERE id = 'audit-key-copies'").run(JSON.stringify({ ...data, cmk: { label: cmk!.hsmLabel, id: cmk!.hsmId }, wrapped: kek!.wrapped }));
    db.close();
    rootKey.addMember('c', await openMember(c));
    expect(await codeOf(syncRootMember({ rootKey, keyStore, member: 'c' }))).toBe('KEYSTORE_TAMPERED');
    const refusals = (await keyStore.listAudit(0, 1000)).filter((r) => r.event === 'member' && r.subject === 'member:c').map((r) => JSON.parse(r.details) as Record<string, string>);
    expect(refusals).toContainEqual({ action: 'audit-key', result: 'refused', code: 'KEYSTORE_TAMPERED' });
    // The KEK copies for C were made (checked by their bindings), but no audit key was imported.
    expect((await reportRootMembers(rootKey, keyStore)).find((m) => m.name === 'c')).toMatchObject({ missingCopies: 0, auditKey: false });
    const onC = await openMember(c);
    closing.push(onC);
    expect(await onC.auditKeyIdentity()).toBeUndefined();
  });

  it('issue 14 §audit key: a trail started before the key store kept audit-key copies says so: add-member reports not-kept, hsm members shows it, and the new member is skipped for audit MACs', async () => {
    // What an older version left: the members hold the audit key, the trail started on it, and the key store keeps no copies
    // (the audit key is created without a key store, so no `audit-key-copies` row exists when record 1 is written).
    // Updated for the review (F4): deleting the row of a trail started by this version is now `tampered`, tested below.
    const [a, b, c] = ['a', 'b', 'c'].map((name) => createMemberToken(name) as MemberToken) as [MemberToken, MemberToken, MemberToken];
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)], probeIntervalMs: 50 });
    closing.push(rootKey);
    const keyStore = new SqlKeyStore(await createSqliteDriver({ database: join(mkdtempSync(join(tmpdir(), 'keystrata-audit-key-')), 'keys.db') }));
    closing.push(keyStore);
    await rootKey.createAuditKey();
    const h = await KeyHierarchy.create({ rootKey, keyStore });
    await h.provision();
    await h.rotateKek();
    expect(JSON.parse((await keyStore.listAudit(0, 1))[0]!.details)).not.toHaveProperty('auditKeyCopies');
    rootKey.addMember('c', await openMember(c));
    expect(await syncRootMember({ rootKey, keyStore, member: 'c' })).toMatchObject({ copiesAdded: 2, auditKey: 'not-kept' });
    expect((await reportRootMembers(rootKey, keyStore)).map((m) => [m.name, m.auditKey, m.auditKeyCopy])).toEqual([
      ['a', true, 'not-kept'],
      ['b', true, 'not-kept'],
      ['c', false, 'not-kept'],
    ]);
    await h.rotateKek();
    await h.verifyAudit();
  });

  it('issue 14 §audit key (review): as the attacker with SQL, deleting the audit-key-copies row of a trail whose MACed first record says copies are kept shows as tampered in hsm members, and add-member fails closed with KEYSTORE_TAMPERED, audited', async () => {
    const { c, rootKey, keyStore, file, h } = await trailOnTwoMembers();
    expect(JSON.parse((await keyStore.listAudit(0, 1))[0]!.details)).toMatchObject({ auditKeyCopies: true });
    const db = new Database(file);
    db.prepare("DELETE FROM keystrata_job WHERE id = 'audit-key-copies'").run();
    db.close();
    rootKey.addMember('c', await openMember(c));
    expect(await codeOf(syncRootMember({ rootKey, keyStore, member: 'c' }))).toBe('KEYSTORE_TAMPERED');
    const refusals = (await keyStore.listAudit(0, 1000)).filter((r) => r.event === 'member' && r.subject === 'member:c').map((r) => JSON.parse(r.details) as Record<string, string>);
    expect(refusals).toContainEqual({ action: 'audit-key', result: 'refused', code: 'KEYSTORE_TAMPERED' });
    expect((await reportRootMembers(rootKey, keyStore)).map((m) => [m.name, m.auditKeyCopy])).toEqual([
      ['a', 'tampered'],
      ['b', 'tampered'],
      ['c', 'tampered'],
    ]);
    await h.verifyAudit();
  });

  it('issue 14 §audit key: a backup carries the wrapped audit-key copies, so a store rebuilt from it into an empty database can still give the audit key to a member added later', async () => {
    const { c, rootKey, h, values } = await trailOnTwoMembers();
    const backup = await h.exportBackup();
    expect(JSON.parse(backup.payload)).toHaveProperty('auditKeyCopies');
    const rebuilt = new SqlKeyStore(await createSqliteDriver({ database: join(mkdtempSync(join(tmpdir(), 'keystrata-audit-key-')), 'rebuilt.db') }));
    closing.push(rebuilt);
    const restored = await KeyHierarchy.create({ rootKey, keyStore: rebuilt });
    expect(await restored.importBackup(backup)).toMatchObject({ keks: 2, auditKeyCopies: true });
    // A second restore never writes over the copies the store now keeps.
    expect(await restored.importBackup(backup)).toMatchObject({ auditKeyCopies: false });
    expect(await restored.decryptValues(values)).toEqual(values.map((v) => v.expected));
    rootKey.addMember('c', await openMember(c));
    expect(await syncRootMember({ rootKey, keyStore: rebuilt, member: 'c' })).toMatchObject({ member: 'c', copiesAdded: 2, auditKey: 'imported' });
    expect((await reportRootMembers(rootKey, rebuilt)).map((m) => [m.name, m.auditKey, m.auditKeyCopy])).toEqual([
      ['a', true, 'stored'],
      ['b', true, 'stored'],
      ['c', true, 'stored'],
    ]);
    expect((await restored.verifyAudit()).records).toBeGreaterThan(2);
  });

  it('issue 14 §audit key: the audit key is never in plaintext (raw, hex or base64) in the key store, its WAL, or any member token directory', async () => {
    const { a, b, c, rootKey, keyStore, file, h } = await trailOnTwoMembers();
    rootKey.addMember('c', await openMember(c));
    await syncRootMember({ rootKey, keyStore, member: 'c' });
    await h.rotateCmk();
    const bytes = await auditKeyBytes(rootKey, keyStore);
    const secrets = [bytes, Buffer.from(bytes.toString('hex')), Buffer.from(bytes.toString('base64'))];
    const scanned = [dirname(file), a.directory, b.directory, c.directory].flatMap(files);
    expect(scanned.some((path) => path.endsWith('-wal'))).toBe(true);
    expect(scanned.filter((path) => secrets.some((secret) => readFileSync(path).includes(secret)))).toEqual([]);
    bytes.fill(0);
  });
});
