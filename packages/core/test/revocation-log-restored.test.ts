// Issue 15 §1, from a security review (issue 15 §1): the revocation sequence is MAX(seq)+1 and a watcher only asks for
// `seq > lastSeq`. When the key-change log goes back (an operator restores the key store from an
// earlier backup; here the backup is restored with SQLite's own ATTACH/copy of the tables), the next
// revocations get seqs that running instances have already passed: they are never evicted and the
// instance keeps decrypting with a revoked DEK for cache.maxAgeMs (60 s), not ~1 s.
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { envelopeDekId } from '../src/adapter.js';
import { createSqliteDriver, KeyHierarchy, SqlKeyStore } from '../src/index.js';
import { sqliteStack } from './stacks.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});
const ctx = (segment: string) => ({ model: 'Patient', field: 'ssn', recordId: 'r1', segment });

describe('revocation after a key-store restore (SQLite, poll mode)', () => {
  it('issue 15 §1 (review): an instance refuses a DEK revoked after the key store was restored from a backup (its change log restarted its seqs), within ~1 s', async () => {
    const stack = await sqliteStack();
    opened.push(stack);
    const prefix = `rev-${Math.random().toString(36).slice(2)}`;
    const writer = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    await writer.provision();
    const victim = await writer.encryptValue('secret-a', ctx('a'));
    const other = await writer.encryptValue('secret-b', ctx('b'));
    // Backup of the key store, taken now (log is empty: MAX(seq) = 0).
    const backup = `${stack.file}.bak`;
    const db = new Database(stack.file);
    await db.backup(backup);
    db.close();

    // Instance A: a second hierarchy over its own connection, warm cache.
    const storeA = new SqlKeyStore(await createSqliteDriver({ database: stack.file }));
    opened.push(storeA);
    const a = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: storeA, cmkLabelPrefix: prefix });
    expect(await a.decryptValue(victim, ctx('a'))).toBe('secret-a');
    // Ordinary operations after the backup move the log to seq 4; A follows it (lastSeq = 4).
    const otherId = envelopeDekId(other);
    for (let i = 0; i < 2; i++) {
      await writer.disable({ kind: 'dek', id: otherId });
      await writer.enable({ kind: 'dek', id: otherId });
    }
    await sleep(1200);
    expect(await a.decryptValue(victim, ctx('a'))).toBe('secret-a');
    expect(a.stats().revocations?.seq).toBe(4);

    // The operator restores the key-store backup (same keys; the change log goes back to seq 0).
    const raw = new Database(stack.file);
    raw.exec(`ATTACH DATABASE '${backup}' AS bak`);
    raw.exec(
      'BEGIN IMMEDIATE; DELETE FROM main.keystrata_key_change; INSERT INTO main.keystrata_key_change SELECT * FROM bak.keystrata_key_change; DELETE FROM main.keystrata_dek; INSERT INTO main.keystrata_dek SELECT * FROM bak.keystrata_dek; COMMIT;',
    );
    raw.exec('DETACH DATABASE bak');
    raw.close();

    // After the restore, the victim's DEK is revoked (disabled) through the API: logged as seq 1 <= A's lastSeq.
    const victimId = envelopeDekId(victim);
    await writer.disable({ kind: 'dek', id: victimId });
    const log = await stack.keyStore.listKeyChanges!(0);
    expect(log.changes.map((c) => [c.seq, c.id, c.state])).toEqual([[1, victimId, 'disabled']]);
    await expect(writer.decryptValue(victim, ctx('a'))).rejects.toMatchObject({ code: expect.any(String) });

    // Well past revocationCheckMs (1 s): A must refuse.
    await sleep(2500);
    let outcome: string;
    try {
      outcome = `DECRYPTED ${await a.decryptValue(victim, ctx('a'))}`;
    } catch (error) {
      outcome = `REFUSED ${(error as { code?: string }).code}`;
    }
    expect(outcome).toMatch(/^REFUSED/);
  });
});
