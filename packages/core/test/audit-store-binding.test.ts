import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { auditDigest } from '../src/audit/audit-chain.js';
import { KeyHierarchy, KeystrataError, SqlKeyStore, createSqliteDriver, type FieldContext } from '../src/index.js';
import { sqliteStack } from './stacks.js';

// Issue 11 §5 (review): the audit trail is bound to its key store. Written as the attacker: raw SQL
// on the SQLite files of two key stores that share one token (and so one audit key).

const ctx = (segment: string, recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });
const verdictOf = (p: Promise<{ records: number }>): Promise<string> =>
  p.then(
    (v) => `verified ${v.records} records`,
    (e) => (KeystrataError.isInstance(e) ? e.code : String(e)),
  );
const prefix = (name: string) => `${name}-${Math.random().toString(36).slice(2)}`;

describe("issue 11 §5 (review): audit trail replaced by another key store's trail on the same token", () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('issue 11 §5 (review): a trail copied over from another key store (same token, same keyrings and versions) does not verify, in this process or a fresh one', async () => {
    const a = await sqliteStack();
    closers.push(() => a.close());
    const b = await sqliteStack();
    closers.push(() => b.close());
    const prefixA = prefix('rva');
    const ha = await KeyHierarchy.create({ rootKey: a.rootKey, keyStore: a.keyStore, cmkLabelPrefix: prefixA });
    const hb = await KeyHierarchy.create({ rootKey: b.rootKey, keyStore: b.keyStore, cmkLabelPrefix: prefix('rvb') });
    await hb.provision(); // staging store on the same token
    await ha.provision();
    await ha.encryptValues([{ value: 'x', context: ctx('tenant:a', 'a1') }]);
    await ha.destroy({ kind: 'segment', segment: 'tenant:a' }); // epoch: CMK v2, KEK v2 in A
    await hb.rotateCmk();
    await hb.rotateKek(); // B's trail now also names cmk:default:v2, kek:default:v2
    expect((await ha.verifyAudit()).records).toBeGreaterThan(1);
    expect((await hb.verifyAudit()).records).toBeGreaterThan(1);
    const dbB = new Database(b.file);
    const rowsB = dbB.prepare('SELECT * FROM keystrata_audit ORDER BY seq').all() as Array<Record<string, unknown>>;
    dbB.close();
    const dbA = new Database(a.file);
    dbA.prepare('DELETE FROM keystrata_audit').run();
    const insert = dbA.prepare('INSERT INTO keystrata_audit VALUES (@seq, @at, @event, @subject, @actor, @details, @prev_mac, @mac)');
    for (const row of rowsB) insert.run(row);
    dbA.close();
    expect(await verdictOf(ha.verifyAudit())).toBe('AUDIT_CHAIN_BROKEN');
    // A fresh process knows nothing of A's trail: the CMK rows' HSM objects are not the ones B's generate records name.
    const freshStore = new SqlKeyStore(await createSqliteDriver({ database: a.file }));
    closers.push(() => freshStore.close());
    const fresh = await KeyHierarchy.create({ rootKey: a.rootKey, keyStore: freshStore, cmkLabelPrefix: prefixA });
    const error = await fresh.verifyAudit().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(KeystrataError.isInstance(error, 'AUDIT_CHAIN_BROKEN')).toBe(true);
    expect((error as Error).message).toMatch(/cmk:default:v1/);
  });

  it('issue 11 §5 (review): a new trail records a store id in its audit-key record and MACs every record with keystrata-audit-v2 over it', async () => {
    const a = await sqliteStack();
    closers.push(() => a.close());
    const h = await KeyHierarchy.create({ rootKey: a.rootKey, keyStore: a.keyStore, cmkLabelPrefix: prefix('rvs') });
    await h.provision();
    const [genesis, second] = await h.listAudit();
    const storeId = JSON.parse(genesis!.details).storeId as string;
    expect(storeId).toMatch(/^[0-9a-f]{32}$/);
    // The MAC covers the store id: the same record under another store id (or v1) MACs differently.
    const mac = (id?: string) => a.rootKey.auditMac(auditDigest(second!.seq, second!.prevMac, second!, id)).then((m) => m.toString('base64'));
    expect(await mac(storeId)).toBe(second!.mac);
    expect(await mac('0'.repeat(32))).not.toBe(second!.mac);
    expect(await mac(undefined)).not.toBe(second!.mac);
  });

  it('issue 11 §5 (review): verify in the process that wrote the trail refuses it once tail rows it wrote were deleted by raw SQL', async () => {
    const a = await sqliteStack();
    closers.push(() => a.close());
    const h = await KeyHierarchy.create({ rootKey: a.rootKey, keyStore: a.keyStore, cmkLabelPrefix: prefix('rvt') });
    await h.provision();
    await h.encryptValues([{ value: 'x', context: ctx('tenant:t', 't1') }]); // a DEK generate record: no key row reveals its loss
    const before = await h.verifyAudit();
    const db = new Database(a.file);
    db.prepare('DELETE FROM keystrata_audit WHERE seq = ?').run(before.headSeq);
    db.close();
    const error = await h.verifyAudit().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(KeystrataError.isInstance(error, 'AUDIT_CHAIN_BROKEN')).toBe(true);
    expect((error as Error).message).toMatch(/tail was deleted/);
  });
});
