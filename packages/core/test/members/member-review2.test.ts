// Second independent review of issue 14's audit-key fixes, as an SQL-only attacker (no PIN) on the key
// store, plus the legitimate flows those fixes must not turn into false alarms.
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteDriver, decodeMemberCopies, encodeMemberCopies, KeyHierarchy, openPkcs11Members, Pkcs11RootKey, reportRootMembers, SqlKeyStore, syncRootMember } from '../../src/index.js';
// @ts-expect-error: a plain .mjs helper shared with the child processes
import { cloneMemberToken, createMemberToken } from './member-tokens.mjs';
import { closedAfterEach, codeOf, type MemberToken, options, relabelled } from './member-test-kit.js';

const closing = closedAfterEach();
const token = (name: string): MemberToken => createMemberToken(name) as MemberToken;
const storeFile = () => join(mkdtempSync(join(tmpdir(), 'keystrata-review2-')), 'keys.db');

/** A trail started on `members` (independent); returns the open root, store and hierarchy. */
async function independentTrail(members: MemberToken[], file = storeFile()) {
  const rootKey = await openPkcs11Members({ kind: 'independent', members: members.map(options) });
  closing.push(rootKey);
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
  closing.push(keyStore);
  const h = await KeyHierarchy.create({ rootKey, keyStore });
  await h.provision();
  return { rootKey, keyStore, h, file };
}

/** The store at `file` opened (no provisioning) under a root of `members`. */
async function reopen(kind: 'cloned' | 'independent', members: MemberToken[], file: string) {
  const rootKey = await openPkcs11Members({ kind, members: members.map(options) });
  closing.push(rootKey);
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
  closing.push(keyStore);
  return { rootKey, keyStore, h: await KeyHierarchy.create({ rootKey, keyStore }) };
}

/** A trail started by a single-token root on `a`, then closed. */
async function singleTokenTrail(a: MemberToken, file: string): Promise<void> {
  const single = await Pkcs11RootKey.open(options(a));
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
  const h = await KeyHierarchy.create({ rootKey: single, keyStore });
  await h.provision();
  await keyStore.close();
  await single.close();
}

describe('issue 14 §audit key (review 2): an SQL-only attacker and the legitimate flows', () => {
  it('issue 14 §audit key (review 2): deleting the audit-key-copies row AND the `auditKeyCopies` flag of record 1 is reported tampered (the flag counts only when record 1 verifies), and verify fails', async () => {
    const { rootKey, keyStore, file } = await independentTrail([token('a'), token('b')]);
    const db = new Database(file);
    db.prepare("DELETE FROM keystrata_job WHERE id = 'audit-key-copies'").run();
    const first = db.prepare('SELECT details FROM keystrata_audit WHERE seq = 1').get() as { details: string };
    const details = JSON.parse(first.details) as Record<string, unknown>;
    expect(details.auditKeyCopies).toBe(true);
    delete details.auditKeyCopies;
    db.prepare('UPDATE keystrata_audit SET details = ? WHERE seq = 1').run(JSON.stringify(details));
    db.close();
    const fresh = await KeyHierarchy.create({ rootKey, keyStore });
    expect((await reportRootMembers(rootKey, keyStore)).map((m) => `${m.name}:${m.auditKeyCopy}`)).toEqual(['a:tampered', 'b:tampered']);
    expect(await codeOf(fresh.verifyAudit())).toBe('AUDIT_CHAIN_BROKEN');
    // Member sync refuses the edited start, and says so in the trail.
    expect(await codeOf(syncRootMember({ rootKey, keyStore, member: 'b' }))).toBe('AUDIT_KEY_MISMATCH');
    const refusals = (await keyStore.listAudit(0, 1000)).filter((r) => r.event === 'member' && r.details.includes('"refused"'));
    expect(refusals.length).toBeGreaterThan(0);
  });

  it("issue 14 §mechanism (review 2): one member's own KEK copy relabelled to a mechanism that member lacks is KEYSTORE_TAMPERED and audited, as when it offers it (not served silently by the other member)", async () => {
    const kwOnly = token('a');
    appendFileSync(kwOnly.conf, 'slots.mechanisms = CKM_AES_KEY_GEN,CKM_AES_KEY_WRAP,CKM_GENERIC_SECRET_KEY_GEN,CKM_SHA256_HMAC\n');
    const { h, file } = await independentTrail([kwOnly, token('b')]);
    const context = { model: 'P', field: 'f', recordId: 'r1', segment: 's1' };
    const ciphertext = await h.encryptValue('canary', context);
    const db = new Database(file);
    const kek = Buffer.from((db.prepare('SELECT wrapped FROM keystrata_kek WHERE version = 1').get() as { wrapped: string }).wrapped, 'base64');
    const edited = decodeMemberCopies(kek).map((copy) => (copy.member === 'a' ? { ...copy, wrapped: relabelled(copy.wrapped) } : copy));
    db.prepare('UPDATE keystrata_kek SET wrapped = ? WHERE version = 1').run(encodeMemberCopies(edited).toString('base64'));
    db.close();
    const codes = new Set<string>();
    for (let i = 0; i < 4; i++) {
      h.clearCache();
      codes.add(await h.decryptValue(ciphertext, context).then(String, (error: { code?: string }) => error.code ?? 'untyped'));
    }
    // Whichever member the balancer asks first: b's good copy may serve a read, a's edited copy is refused and recorded.
    expect([...codes].every((code) => code === 'canary' || code === 'KEYSTORE_TAMPERED')).toBe(true);
    expect(codes.has('KEYSTORE_TAMPERED')).toBe(true);
    expect((await h.listAudit()).filter((r) => r.event === 'unwrap-failed').length).toBeGreaterThan(0);
  });

  it('issue 14 §audit key (review 2): no false alarm for a trail started by a single-token root and then run as independent members: verify, append, sync and report', async () => {
    const [a, b] = [token('a'), token('b')];
    const file = storeFile();
    await singleTokenTrail(a, file);
    const { rootKey, keyStore, h } = await reopen('independent', [a, b], file);
    expect(await codeOf(h.verifyAudit())).toBe('none');
    expect(await codeOf(h.rotateKek())).toBe('none');
    expect((await syncRootMember({ rootKey, keyStore, member: 'b' })).auditKey).toBe('not-kept');
    expect((await reportRootMembers(rootKey, keyStore)).map((m) => `${m.name}:${m.auditKeyCopy}`)).toEqual(['a:not-kept', 'b:not-kept']);
    expect(await codeOf(h.verifyAudit())).toBe('none');
  });

  it('issue 14 §audit key (review 2): no false alarm for a cloned pair whose second token was copied after the trail started', async () => {
    const a = token('a');
    const file = storeFile();
    await singleTokenTrail(a, file);
    const b = cloneMemberToken(a, 'b') as MemberToken;
    const { h } = await reopen('cloned', [a, b], file);
    expect(await codeOf(h.verifyAudit())).toBe('none');
    expect(await codeOf(h.rotateKek())).toBe('none');
  });
});
