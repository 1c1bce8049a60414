// Independent review (issue 14 §audit key), as the attacker with SQL on the key store: `hsm members`
// (reportRootMembers) must show an edited (malformed) `audit-key-copies` row as tampered, never as
// `not-kept` ("a trail started before copies were kept").
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteDriver, KeyHierarchy, openPkcs11Members, reportRootMembers, SqlKeyStore } from '../../src/index.js';
import { auditDigest } from '../../src/audit/audit-chain.js';
import { recordedAuditKey, recordedAuditKeyCopies, recordedStoreId } from '../../src/audit/audit-key-check.js';
import type { AuditRecord } from '../../src/key-store/records.js';
// @ts-expect-error: plain .mjs helper
import { createMemberToken } from './member-tokens.mjs';
import { closedAfterEach, type MemberToken, options } from './member-test-kit.js';

const closing = closedAfterEach();

describe('issue 14 §audit key (review): member report and a malformed audit-key-copies row', () => {
  it('issue 14 §audit key (review): a malformed row is reported as tampered, not as a legacy not-kept trail', async () => {
    const [a, b] = ['a', 'b'].map((n) => createMemberToken(n) as MemberToken) as [MemberToken, MemberToken];
    const rootKey = await openPkcs11Members({ kind: 'independent', members: [options(a), options(b)] });
    closing.push(rootKey);
    const file = join(mkdtempSync(join(tmpdir(), 'review-report-')), 'keys.db');
    const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
    closing.push(keyStore);
    const h = await KeyHierarchy.create({ rootKey, keyStore });
    await h.provision();
    const db = new Database(file);
    db.prepare("UPDATE keystrata_job SET data = '{\"keyId\":1}' WHERE id = 'audit-key-copies'").run();
    db.close();
    const outcome = await reportRootMembers(rootKey, keyStore).then(
      (r) => r.map((m) => `${m.name}:${m.auditKeyCopy}`).join(','),
      (e: { code?: string }) => e.code,
    );
    // The reviewer expected the report to throw KEYSTORE_TAMPERED; it reports every member's copy as `tampered` instead, so
    // `hsm members` still shows each member's health (the CLI prints KEYSTORE_TAMPERED and what to do on that line).
    expect(outcome).toBe('a:tampered,b:tampered');
  });

  it("issue 14 §audit key (review): the first record's `auditKeyCopies` detail is read by recordedAuditKeyCopies and ignored by recordedAuditKey, recordedStoreId and the committed audit-v2 vectors", () => {
    const vectors = (
      JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors', 'mac-inputs.json'), 'utf8')) as {
        auditV2: Array<{ storeId: string; seq: number; prevMac: string; entry: Omit<AuditRecord, 'seq' | 'prevMac' | 'mac'>; digestHex: string }>;
      }
    ).auditV2;
    const genesis = vectors.find((v) => v.entry.event === 'audit-key')!;
    const record = (details: string): AuditRecord => ({ ...genesis.entry, details, seq: 1, prevMac: '', mac: '' });
    expect(auditDigest(genesis.seq, genesis.prevMac, genesis.entry, genesis.storeId).toString('hex')).toBe(genesis.digestHex);
    const old = record(genesis.entry.details);
    const withCopies = record(JSON.stringify({ ...(JSON.parse(genesis.entry.details) as object), auditKeyCopies: true }));
    expect([recordedAuditKeyCopies(old), recordedAuditKeyCopies(withCopies)]).toEqual([false, true]);
    expect(recordedAuditKey(withCopies)).toEqual(recordedAuditKey(old));
    expect(recordedAuditKey(old)!.id).not.toBe('');
    expect(recordedStoreId(withCopies)).toBe(recordedStoreId(old));
  });
});
