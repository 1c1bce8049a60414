import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import {
  createSqliteDriver,
  decodeMemberCopies,
  encodeMemberCopies,
  KeyHierarchy,
  type MemberRootKey,
  MemberRootKey as Members,
  openPkcs11Members,
  Pkcs11RootKey,
  removeRootMember,
  reportRootMembers,
  SqlKeyStore,
  syncRootMember,
} from '../../src/index.js';
import { SecretKey } from '../../src/secret/secret-key.js';
// @ts-expect-error: a plain .mjs helper shared with the child processes
import { bringBack, cloneMemberToken, createMemberToken, memberOptions, takeAway } from './member-tokens.mjs';
import { closedAfterEach, codeOf, type MemberToken } from './member-test-kit.js';

const token = (name: string, options?: { label?: string }): MemberToken => createMemberToken(name, options) as MemberToken;
const options = (t: MemberToken, pin?: string) => memberOptions(t, pin) as { name: string; module: string; tokenLabel: string; pin: () => string; moduleEnvironment: Record<string, string> };

const closing = closedAfterEach();

async function store(): Promise<{ keyStore: SqlKeyStore; file: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'keystrata-members-')), 'keys.db');
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
  closing.push(keyStore);
  return { keyStore, file };
}

async function hierarchyWithValues(rootKey: MemberRootKey, keyStore: SqlKeyStore) {
  const h = await KeyHierarchy.create({ rootKey, keyStore });
  await h.provision();
  const values = [];
  for (let version = 1; version <= 2; version++) {
    if (version > 1) await h.rotateKek();
    const context = { model: 'P', field: 'f', recordId: `r${version}`, segment: `s${version}` };
    values.push({ ciphertext: await h.encryptValue(`canary-${version}`, context), context });
  }
  return { h, values, expected: values.map((_, i) => `canary-${i + 1}`) };
}

describe('issue 14: members that must not be used, tampered copies, adding and removing members', () => {
  it('issue 14 §refused: a member with the wrong PIN is reported and never used, and the probe never retries it', async () => {
    const a = token('a');
    const b = token('b');
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b, 'wrong-pin')], probeIntervalMs: 20 });
    closing.push(rootKey);
    const { keyStore } = await store();
    const { h, values, expected } = await hierarchyWithValues(rootKey, keyStore);
    for (let i = 0; i < 5; i++) {
      h.clearCache();
      expect(await h.decryptValues(values)).toEqual(expected);
    }
    await rootKey.probe();
    const b1 = rootKey.stats.members!.find((m) => m.name === 'b')!;
    expect(b1).toMatchObject({ state: 'refused', reason: 'HSM_PIN_INCORRECT', calls: 0 });
    const report = await reportRootMembers(rootKey, keyStore);
    expect(report.map((m) => [m.name, m.state, m.missingCopies])).toEqual([
      ['a', 'healthy', 0],
      ['b', 'refused', 2],
    ]);
    // No KEK copy was ever made for it.
    for (const kek of await keyStore.listKeks()) expect(decodeMemberCopies(Buffer.from(kek.wrapped, 'base64')).map((c) => c.member)).toEqual(['a']);
  });

  it('issue 14 §missing CMK: a cloned member that lacks the CMK is reported and never serves it; reads never fail', async () => {
    const a = token('a');
    const { keyStore } = await store();
    const first = await openPkcs11Members({ kind: 'cloned', members: [options(a)] });
    const { values, expected } = await hierarchyWithValues(first, keyStore);
    await first.close();
    // A second token with the same label, never cloned from A: no CMK, no audit key.
    const stranger = token('c', { label: a.tokenLabel });
    const rootKey = await openPkcs11Members({ kind: 'cloned', members: [options(a), options(stranger)] });
    closing.push(rootKey);
    const h = await KeyHierarchy.create({ rootKey, keyStore });
    for (let i = 0; i < 6; i++) {
      h.clearCache();
      expect(await h.decryptValues(values)).toEqual(expected);
    }
    expect(rootKey.stats.members!.find((m) => m.name === 'c')).toMatchObject({ state: 'healthy', calls: 0 });
    const report = await reportRootMembers(rootKey, keyStore);
    expect(report.find((m) => m.name === 'c')).toMatchObject({ missingCmks: ['default v1'], auditKey: false });
    expect(report.find((m) => m.name === 'a')).toMatchObject({ missingCmks: [], auditKey: true });
    await h.verifyAudit();
  });

  it("issue 14 §copies: as the attacker with SQL on the key store, a copy moved under another member's name, a KEK row swapped with another, or a malformed container fails closed and is audited", async () => {
    const a = token('a');
    const b = token('b');
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)] });
    closing.push(rootKey);
    const { keyStore, file } = await store();
    const { h, values } = await hierarchyWithValues(rootKey, keyStore);
    const db = new Database(file);
    const row = (version: number) => (db.prepare('SELECT wrapped FROM keystrata_kek WHERE version = ?').get(version) as { wrapped: string }).wrapped;
    const setRow = (version: number, wrapped: string) => db.prepare('UPDATE keystrata_kek SET wrapped = ? WHERE version = ?').run(wrapped, version);
    const original = row(1);
    const copies = decodeMemberCopies(Buffer.from(original, 'base64'));
    const attempts: Record<string, string> = {};
    const attempt = async (name: string, wrapped: string) => {
      setRow(1, wrapped);
      h.clearCache();
      attempts[name] = await codeOf(h.decryptValues([values[0]!]));
    };
    // A's copy stored as B's only copy: B must unwrap it, fails, and A is not tried instead.
    await attempt('moved', encodeMemberCopies([{ member: 'b', wrapped: copies.find((c) => c.member === 'a')!.wrapped }]).toString('base64'));
    await attempt('swapped row', row(2));
    await attempt('trailing byte', Buffer.concat([Buffer.from(original, 'base64'), Buffer.from([0])]).toString('base64'));
    await attempt('truncated', Buffer.from(original, 'base64').subarray(0, 30).toString('base64'));
    const twice = encodeMemberCopies(copies);
    twice[6 + 1 + 1 + 2 + copies[0]!.wrapped.length + 1] = twice[7]!; // the second copy's one-letter name becomes the first's
    await attempt('same member twice', twice.toString('base64'));
    setRow(1, original);
    db.close();
    expect(attempts).toEqual({
      moved: 'KEYSTORE_TAMPERED',
      'swapped row': 'KEYSTORE_TAMPERED',
      'trailing byte': 'KEYSTORE_TAMPERED',
      truncated: 'KEYSTORE_TAMPERED',
      'same member twice': 'KEYSTORE_TAMPERED',
    });
    const failures = (await keyStore.listAudit(0, 1000)).filter((r) => r.event === 'unwrap-failed');
    expect(failures.length).toBe(5);
    h.clearCache();
    expect(await h.decryptValue(values[0]!.ciphertext, values[0]!.context)).toBe('canary-1');
  });

  it('issue 14 §add-member: an independent member added later gets its CMK, every KEK copy and the audit key (idempotently), reads and verifies everything alone, and is removed with its copies, audited; the last member holding the audit key is not removed', async () => {
    const a = token('a');
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a)] });
    closing.push(rootKey);
    const { keyStore } = await store();
    const { h, values, expected } = await hierarchyWithValues(rootKey, keyStore);
    const c = token('c');
    rootKey.addMember('c', await Pkcs11RootKey.open({ ...options(c), acceptImportedAuditKey: true }));
    const progress: number[] = [];
    const first = await syncRootMember({ rootKey, keyStore, member: 'c', onProgress: (p) => progress.push(p.done) });
    expect(first).toMatchObject({ cmksCreated: 1, copiesAdded: 2, copiesPresent: 0, unbound: 0, auditKey: 'imported' });
    expect(progress).toEqual([1, 2]);
    expect(await syncRootMember({ rootKey, keyStore, member: 'c' })).toMatchObject({ cmksCreated: 0, copiesAdded: 0, copiesPresent: 2, auditKey: 'present' });
    // C alone (a second root key on its token) reads every value.
    const alone = Members.create({ kind: 'independent', members: [{ name: 'c', rootKey: await Pkcs11RootKey.open({ ...options(c), acceptImportedAuditKey: true }) }] });
    closing.push(alone);
    const reader = await KeyHierarchy.create({ rootKey: alone, keyStore });
    expect(await reader.decryptValues(values)).toEqual(expected);
    // Updated for the audit-key copies: C received the audit key at add-member, so it verifies the trail alone.
    expect((await reader.verifyAudit()).records).toBeGreaterThan(3);
    expect(await removeRootMember({ rootKey, keyStore, member: 'c' })).toEqual({ member: 'c', copiesRemoved: 2 });
    // A is now the last healthy member holding the audit key: its removal is refused, nothing changed.
    await expect(removeRootMember({ rootKey, keyStore, member: 'a' })).rejects.toMatchObject({ code: 'KEY_IN_USE' });
    for (const kek of await keyStore.listKeks()) expect(decodeMemberCopies(Buffer.from(kek.wrapped, 'base64')).map((m) => m.member)).toEqual(['a']);
    // The member state changes are recorded in the background: wait (bounded) for the last one.
    await vi.waitFor(async () => {
      const records = (await keyStore.listAudit(0, 1000)).filter((r) => r.event === 'member').map((r) => JSON.parse(r.details) as Record<string, string>);
      expect(records.map((r) => r.action ?? `${r.member}:${r.from}->${r.to}`)).toEqual(['c:added->healthy', 'sync', 'sync', 'remove', 'c:healthy->removed']);
    }, 5000);
    h.clearCache();
    expect(await h.decryptValues(values)).toEqual(expected);
  });

  it('issue 14 §audit key: independent members all hold the same imported audit key (one check value), and the trail verifies through either', async () => {
    const a = token('a');
    const b = token('b');
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)] });
    closing.push(rootKey);
    const { keyStore } = await store();
    const { h } = await hierarchyWithValues(rootKey, keyStore);
    const identities = await Promise.all(rootKey.members.map((m) => m.rootKey!.auditKeyIdentity!()));
    expect(identities[0]).toBeDefined();
    expect(identities[1]).toEqual(identities[0]);
    for (const name of ['a', 'b']) {
      const only = Members.create({ kind: 'independent', members: [{ name, rootKey: await Pkcs11RootKey.open({ ...options(name === 'a' ? a : b), acceptImportedAuditKey: true }) }] });
      closing.push(only);
      expect((await (await KeyHierarchy.create({ rootKey: only, keyStore })).verifyAudit()).records).toBeGreaterThan(3);
    }
    await h.verifyAudit();
  });

  it('issue 14 §audit key: a single-token root still refuses an audit key imported from process memory (acceptImportedAuditKey is opt-in, for independent members)', async () => {
    const x = token('x');
    const importing = await Pkcs11RootKey.open({ ...options(x), acceptImportedAuditKey: true });
    closing.push(importing);
    await importing.importAuditKey('0a0b', SecretKey.takeOwnership(randomBytes(32)));
    const single = await Pkcs11RootKey.open(options(x));
    closing.push(single);
    expect(await codeOf(single.auditKeyIdentity())).toBe('HSM_OBJECT_UNSAFE');
  });

  it("issue 14 §audit key: as the attacker holding one independent member's PIN, an audit key planted there before the trail starts is refused, and no trail is started", async () => {
    const a = token('a');
    const b = token('b');
    // The attacker imports a key whose bytes they know into B, labelled as the audit key.
    const planting = await Pkcs11RootKey.open({ ...options(b), acceptImportedAuditKey: true });
    await planting.importAuditKey('a77ac4', SecretKey.takeOwnership(Buffer.alloc(32, 7)));
    await planting.close();
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)] });
    closing.push(rootKey);
    const { keyStore } = await store();
    const h = await KeyHierarchy.create({ rootKey, keyStore });
    expect(await codeOf(h.provision())).toBe('AUDIT_KEY_MISMATCH');
    expect(await keyStore.listAudit(0, 10)).toEqual([]);
  });

  it('issue 14 §module: a module finalised under the root whose token store is gone fails with HSM_UNAVAILABLE (was CIPHERTEXT_TAMPERED), and initialises again under its own SOFTHSM2_CONF once back', async () => {
    const x = token('x');
    const rootKey = await Pkcs11RootKey.open(options(x));
    closing.push(rootKey);
    const cmk = await rootKey.createCmk('module-test');
    const wrapped = await rootKey.generateWrappedKek(cmk);
    // Another module loaded after it sets another SOFTHSM2_CONF in the process environment.
    const y = token('y');
    closing.push(await Pkcs11RootKey.open(options(y)));
    takeAway(x);
    expect(await codeOf(rootKey.unwrapKek(cmk, wrapped))).toBe('HSM_UNAVAILABLE');
    bringBack(x);
    const kek = await rootKey.unwrapKek(cmk, wrapped);
    expect(kek.exposeSecretBytes().length).toBe(32);
    kek.destroy();
  });

  it('issue 14 §cloned: a copied token directory is a cloned member: either one alone unwraps what the other wrapped', async () => {
    const a = token('a');
    const { keyStore } = await store();
    const first = await openPkcs11Members({ kind: 'cloned', members: [options(a)] });
    const { values, expected } = await hierarchyWithValues(first, keyStore);
    await first.close();
    const b = cloneMemberToken(a, 'b') as MemberToken;
    const onlyB = Members.create({ kind: 'cloned', members: [{ name: 'b', rootKey: await Pkcs11RootKey.open(options(b)) }] });
    closing.push(onlyB);
    const h = await KeyHierarchy.create({ rootKey: onlyB, keyStore });
    expect(await h.decryptValues(values)).toEqual(expected);
    await h.verifyAudit();
  });
});
