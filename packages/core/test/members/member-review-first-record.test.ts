// Independent review (issue 14 §audit key, F2), as the attacker with SQL on the key store and the PIN of
// ONE existing member (B): an audit key K' of the attacker's choosing, wrapped under B's audit-wrap CMK
// (and, in the second test, imported into B as an audit key object), and the first audit record edited to
// name it. A NEW member C (whose PIN the attacker never had) must not import K', and a trail re-MACed
// offline under K' must not verify: member A, which the attacker could not change, still holds the real
// audit key (another id), and every healthy member must hold the recorded key or none.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pkcs11js from 'pkcs11js';
import { describe, expect, it } from 'vitest';
import { auditDigest } from '../../src/audit/audit-chain.js';
import { createSqliteDriver, encodeMemberCopies, KeyHierarchy, openPkcs11Members, Pkcs11RootKey, SqlKeyStore, syncRootMember } from '../../src/index.js';
import type { AuditEvent } from '../../src/key-store/records.js';
import { AUDIT_KEY_CHECK_STRING } from '../../src/root-key/root-key.js';
import { SecretKey } from '../../src/secret/secret-key.js';
// @ts-expect-error: plain .mjs helper
import { createMemberToken } from './member-tokens.mjs';
import { closedAfterEach, codeOf, type MemberToken, options, withAttackerSession } from './member-test-kit.js';

const closing = closedAfterEach();

/** Offline, SQL only: every record re-MACed under `key` (the actor of record 2 forged), as the attacker holding `key` can. */
function reMacTrail(file: string, key: Buffer): void {
  const db = new Database(file);
  const records = db.prepare('SELECT * FROM keystrata_audit ORDER BY seq').all() as Array<{ seq: number; at: string; event: AuditEvent; subject: string; actor: string; details: string }>;
  const storeId = (JSON.parse(records[0]?.details ?? '{}') as { storeId?: string }).storeId;
  let prevMac = '';
  for (const r of records) {
    const actor = r.seq === 2 ? 'forged-actor' : r.actor;
    const mac = createHmac('sha256', key)
      .update(auditDigest(r.seq, prevMac, { at: r.at, event: r.event, subject: r.subject, actor, details: r.details }, storeId))
      .digest()
      .toString('base64');
    db.prepare('UPDATE keystrata_audit SET actor = ?, prev_mac = ?, mac = ? WHERE seq = ?').run(actor, prevMac, mac, r.seq);
    prevMac = mac;
  }
  db.close();
}

/** The attacker's own PKCS#11 handle on B (B's PIN): destroys B's audit key objects, so the library imports K' in their place. */
function destroyAuditKeyObjects(token: MemberToken): number {
  return withAttackerSession(token, (p, session) => {
    p.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: 'keystrata-audit' }]);
    const objects = p.C_FindObjects(session, 10);
    p.C_FindObjectsFinal(session);
    for (const object of objects) p.C_DestroyObject(session, object);
    return objects.length;
  });
}

/** A and B start a trail; the attacker (SQL + B's PIN) plants K' on B and points the copies row and record 1 at it. */
async function plantOnB(importIntoB: boolean) {
  const [a, b, c] = ['a', 'b', 'c'].map((n) => createMemberToken(n) as MemberToken) as [MemberToken, MemberToken, MemberToken];
  const file = join(mkdtempSync(join(tmpdir(), 'review-r0-')), 'keys.db');
  {
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)] });
    const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
    const h = await KeyHierarchy.create({ rootKey, keyStore });
    await h.provision();
    await keyStore.close();
    await rootKey.close();
  }
  const attackerKey = randomBytes(32);
  const checkValue = createHmac('sha256', attackerKey).update(AUDIT_KEY_CHECK_STRING).digest().subarray(0, 16).toString('hex');
  const forgedId = randomBytes(16).toString('hex');
  const db = new Database(file);
  const row = JSON.parse((db.prepare("SELECT data FROM keystrata_job WHERE id = 'audit-key-copies'").get() as { data: string }).data) as {
    keyId: string;
    cmk: { label: string; id: string };
    wrapped: string;
  };
  if (importIntoB) expect(destroyAuditKeyObjects(b)).toBe(1);
  const onlyB = await Pkcs11RootKey.open({ ...options(b), acceptImportedAuditKey: true });
  const wrapped = await onlyB.wrapKekBytes(row.cmk, SecretKey.takeOwnership(Buffer.from(attackerKey)));
  if (importIntoB) await onlyB.importAuditKey(forgedId, SecretKey.takeOwnership(Buffer.from(attackerKey)));
  await onlyB.close();
  db.prepare("UPDATE keystrata_job SET data = ? WHERE id = 'audit-key-copies'").run(
    JSON.stringify({ ...row, keyId: forgedId, wrapped: encodeMemberCopies([{ member: 'b', wrapped }]).toString('base64') }),
  );
  const first = db.prepare('SELECT details FROM keystrata_audit WHERE seq = 1').get() as { details: string };
  db.prepare('UPDATE keystrata_audit SET details = ? WHERE seq = 1').run(JSON.stringify({ ...(JSON.parse(first.details) as object), hsmId: forgedId, checkValue }));
  db.close();
  return { a, b, c, file, attackerKey, forgedId };
}

describe('issue 14 §audit key (review): the first audit record is verified before member sync trusts it', () => {
  it('issue 14 §audit key (review): an edited first record and a copy of an attacker key wrapped on B are refused at add-member (new member C imports nothing), and the trail re-MACed offline under that key does not verify', async () => {
    const { a, b, c, file, attackerKey, forgedId } = await plantOnB(false);
    // The operator adds member C (the attacker never touched C).
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)] });
    closing.push(rootKey);
    const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
    closing.push(keyStore);
    rootKey.addMember('c', await Pkcs11RootKey.open({ ...options(c), acceptImportedAuditKey: true }));
    expect(await codeOf(syncRootMember({ rootKey, keyStore, member: 'c' }))).toBe('AUDIT_KEY_MISMATCH');
    const memberC = rootKey.members.find((m) => m.name === 'c')!.rootKey!;
    expect([await memberC.auditKeyIdentity!(forgedId), await memberC.auditKeyIdentity!()]).toEqual([undefined, undefined]);
    // Stage 2 (offline, SQL only): the whole trail re-MACed with the attacker key; the operator verifies with A, B, C.
    reMacTrail(file, attackerKey);
    const h = await KeyHierarchy.create({ rootKey, keyStore });
    expect((await h.listAudit()).some((r) => r.actor === 'forged-actor')).toBe(true);
    expect(await codeOf(h.verifyAudit())).toBe('AUDIT_KEY_MISMATCH');
  });

  it("issue 14 §audit key (review): B's audit key replaced by the attacker key (so record 1 re-MACed under it verifies on B) is still refused: A holds the real audit key, so add-member, appends and verify fail with AUDIT_KEY_MISMATCH", async () => {
    const { a, b, c, file, attackerKey, forgedId } = await plantOnB(true);
    reMacTrail(file, attackerKey);
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)] });
    closing.push(rootKey);
    const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
    closing.push(keyStore);
    rootKey.addMember('c', await Pkcs11RootKey.open({ ...options(c), acceptImportedAuditKey: true }));
    expect(await codeOf(syncRootMember({ rootKey, keyStore, member: 'c' }))).toBe('AUDIT_KEY_MISMATCH');
    expect(await rootKey.members.find((m) => m.name === 'c')!.rootKey!.auditKeyIdentity!(forgedId)).toBeUndefined();
    const h = await KeyHierarchy.create({ rootKey, keyStore });
    expect(await codeOf(h.verifyAudit())).toBe('AUDIT_KEY_MISMATCH');
    expect(await codeOf(h.rotateKek())).toBe('AUDIT_KEY_MISMATCH');
  });
});
