// Independent review (issue 14 §audit key, F1), as the attacker holding ONE member's PIN and a copy of the
// key store (or a backup): a raw C_UnwrapKey of that member's stored copy of the audit key gives the key
// in plaintext outside any HSM, and the whole trail can be rewritten and re-MACed offline. This is the
// documented residual risk of moving a key between independent HSMs (the same holds for every KEK; a PIN
// holder could already MAC online): docs/hsm-cluster.md "Audit MAC across members", docs/threat-model.md
// (attacker 4). The test pins it honestly: `verifyAudit()` alone accepts the rewrite; a head saved
// outside the database (`verifyAudit({ head })`) detects it.
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pkcs11js from 'pkcs11js';
import { describe, expect, it } from 'vitest';
import { createSqliteDriver, decodeMemberCopies, KeyHierarchy, openPkcs11Members, SqlKeyStore } from '../../src/index.js';
import { auditDigest } from '../../src/audit/audit-chain.js';
import { recordedAuditKey, recordedStoreId } from '../../src/audit/audit-key-check.js';
import type { AuditEvent } from '../../src/key-store/records.js';
import { AUDIT_KEY_CHECK_STRING } from '../../src/root-key/root-key.js';
// @ts-expect-error: plain .mjs helper
import { createMemberToken } from './member-tokens.mjs';
import { closedAfterEach, type MemberToken, options, withAttackerSession } from './member-test-kit.js';

const closing = closedAfterEach();

/** The attacker's own PKCS#11 handle on member B only (PIN of B, nothing else): C_UnwrapKey under the audit-wrap CMK with a readable template. */
function unwrapWithRawHandle(token: MemberToken, cmk: { label: string; id: string }, copy: Buffer): Buffer {
  return withAttackerSession(token, (p, session) => {
    p.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_LABEL, value: cmk.label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(cmk.id, 'hex') },
    ]);
    const [wrapping] = p.C_FindObjects(session, 2);
    p.C_FindObjectsFinal(session);
    const mechanism = copy.readUInt32BE(3); // 'kw' ‖ 1 ‖ u32 CKM_
    const key = p.C_UnwrapKey(session, { mechanism }, wrapping!, copy.subarray(7), [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_SENSITIVE, value: false },
      { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    ]);
    const [value] = p.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_VALUE }]);
    return Buffer.from(value!.value!);
  });
}

describe('issue 14 §audit key (review): the residual risk of one member PIN holder with the key store', () => {
  it('issue 14 §audit key (review): one member PIN + the stored audit-key-copies row unwrap the audit key outside the HSM; the offline rewrite passes verifyAudit() but a head saved outside the database detects it', async () => {
    const [a, b] = ['a', 'b'].map((n) => createMemberToken(n) as MemberToken) as [MemberToken, MemberToken];
    const file = join(mkdtempSync(join(tmpdir(), 'review-audit-x-')), 'keys.db');
    let savedHead = { seq: 0, mac: '' };
    {
      const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)] });
      closing.push(rootKey);
      const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
      closing.push(keyStore);
      const h = await KeyHierarchy.create({ rootKey, keyStore });
      await h.provision();
      await h.rotateKek();
      const { headSeq, headMac } = await h.verifyAudit();
      savedHead = { seq: headSeq, mac: headMac }; // the operator keeps this outside the database
    }
    for (const thing of closing.splice(0).reverse()) await thing.close();

    // Attacker: a copy of the database (or a backup), and B's PIN on B's token. Nothing of A.
    const db = new Database(file);
    const row = JSON.parse((db.prepare("SELECT data FROM keystrata_job WHERE id = 'audit-key-copies'").get() as { data: string }).data) as { cmk: { label: string; id: string }; wrapped: string };
    const bCopy = decodeMemberCopies(Buffer.from(row.wrapped, 'base64')).find((c) => c.member === 'b')!.wrapped;
    const auditKey = unwrapWithRawHandle(b, row.cmk, bCopy);
    const records = db.prepare('SELECT * FROM keystrata_audit ORDER BY seq').all() as Array<{
      seq: number;
      at: string;
      event: AuditEvent;
      subject: string;
      actor: string;
      details: string;
      prev_mac: string;
      mac: string;
    }>;
    const first = { ...records[0]!, prevMac: records[0]!.prev_mac };
    expect(createHmac('sha256', auditKey).update(AUDIT_KEY_CHECK_STRING).digest().subarray(0, 16).toString('hex')).toBe(recordedAuditKey(first)!.checkValue);

    // Offline (no HSM): drop the KEK rotation's actor and rewrite every MAC from there on.
    const storeId = recordedStoreId(first);
    let prevMac = '';
    const update = db.prepare('UPDATE keystrata_audit SET actor = ?, prev_mac = ?, mac = ? WHERE seq = ?');
    for (const r of records) {
      const actor = r.seq === records.length ? 'forged-actor' : r.actor;
      const entry = { at: r.at, event: r.event, subject: r.subject, actor, details: r.details };
      const mac = createHmac('sha256', auditKey)
        .update(auditDigest(r.seq, prevMac, entry, storeId))
        .digest()
        .toString('base64');
      update.run(actor, prevMac, mac, r.seq);
      prevMac = mac;
    }
    db.close();
    auditKey.fill(0);

    // The operator opens the real members and verifies: the rewritten trail must NOT verify.
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)] });
    closing.push(rootKey);
    const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
    closing.push(keyStore);
    const h = await KeyHierarchy.create({ rootKey, keyStore });
    expect((await h.listAudit()).at(-1)!.actor).toBe('forged-actor');
    // Residual risk (documented, not fixable in code): the rewrite is MACed under the real audit key, so the trail alone verifies.
    // The reviewer expected AUDIT_CHAIN_BROKEN here; that holds only with a head saved outside the database.
    expect((await h.verifyAudit()).headSeq).toBe(savedHead.seq);
    await expect(h.verifyAudit({ head: savedHead })).rejects.toMatchObject({ code: 'AUDIT_CHAIN_BROKEN' });
  });
});
