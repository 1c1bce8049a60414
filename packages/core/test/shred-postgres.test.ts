import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyHierarchy, KeystrataError, type FieldContext } from '../src/index.js';
import { envelopeDekId } from '../src/adapter.js';
import { attackerRecovers, blobsIn, rawBlobs, type Loot, type Victim } from './shred-attacker.js';
import { openTestRootKey, postgresStack } from './stacks.js';

const ctx = (segment: string, recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });
const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

/** The raw heap files of the key tables, as the server's superuser or OS account reads them (dead tuples included). */
async function heapFiles(client: pg.Client): Promise<Buffer[]> {
  await client.query('CHECKPOINT');
  const dir = (await client.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir")).rows[0]!.dir;
  const files: Buffer[] = [];
  for (const table of ['keystrata_kek', 'keystrata_dek']) {
    const path = (await client.query<{ path: string }>('SELECT pg_relation_filepath($1) AS path', [table])).rows[0]!.path;
    for (let segment = 0; ; segment++) {
      const file = join(dir, segment === 0 ? path : `${path}.${segment}`);
      if (!existsSync(file)) break;
      files.push(readFileSync(file));
    }
  }
  return files;
}

/** The server's WAL segments, raw (what a WAL archive or a stolen disk holds). */
async function walFiles(client: pg.Client): Promise<Buffer[]> {
  const dir = join((await client.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir")).rows[0]!.dir, 'pg_wal');
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((file) => statSync(file).isFile())
    .map((file) => readFileSync(file));
}

async function lootOf(client: pg.Client): Promise<Loot> {
  const cmks = await client.query('SELECT version, hsm_label AS "hsmLabel", hsm_id AS "hsmId" FROM keystrata_cmk');
  const keks = await client.query('SELECT version, wrapped FROM keystrata_kek');
  const deks = await client.query('SELECT id, wrapped FROM keystrata_dek');
  return { cmks: cmks.rows, keks: keks.rows, deks: deks.rows } as Loot;
}

describe('crypto-shredding against an attacker on SoftHSM2 and PostgreSQL (integration)', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });

  it('issue 11 §1: after a durable shred, the PIN, the HSM, dead tuples in the heap and an old backup give nothing back (PostgreSQL)', async () => {
    const stack = await postgresStack();
    closers.push(() => stack.close());
    const dba = new pg.Client({ connectionString: stack.url });
    await dba.connect();
    closers.push(() => dba.end());
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `shred-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const victimValues = await h.encryptValues([1, 2, 3].map((i) => ({ value: `canary-victim-${i}`, context: ctx('tenant:victim', `v${i}`) })));
    const survivorValues = await h.encryptValues([1, 2, 3].map((i) => ({ value: `canary-survivor-${i}`, context: ctx('tenant:survivor', `s${i}`) })));
    const victim: Victim = { ciphertext: victimValues[0]!, context: ctx('tenant:victim', 'v1'), dekId: envelopeDekId(victimValues[0]!), plaintext: 'canary-victim-1' };
    const oldBackup = JSON.parse(JSON.stringify(await h.exportBackup()));
    const loot = await lootOf(dba);
    const victimBlob = loot.deks.find((d) => d.id === victim.dekId)!.wrapped;
    const oldKekBlobs = loot.keks.map((k) => k.wrapped);
    expect(blobsIn(await heapFiles(dba), [victimBlob])).toEqual([victimBlob]);

    const attackerRoot = await openTestRootKey();
    closers.push(() => attackerRoot.close());
    expect(await attackerRecovers(attackerRoot, loot, stack.keyStore, victim)).not.toEqual([]);

    // A deferred destroy is logical only: with the old blob (a dump, the WAL) and the live KEK the data comes back.
    await h.destroy({ kind: 'segment', segment: 'tenant:victim' }, { durable: 'deferred' });
    expect(await attackerRecovers(attackerRoot, loot, stack.keyStore, victim)).not.toEqual([]);

    const [epoch] = await h.completeShreds();
    expect(epoch).toMatchObject({ ran: true, purge: 'postgres: VACUUM (FULL, SKIP_LOCKED) keystrata_kek, keystrata_dek' });

    // 1. Every blob from the heap, the WAL or a dump, on a second PKCS#11 handle with the PIN: nothing.
    expect(await attackerRecovers(attackerRoot, loot, stack.keyStore, victim)).toEqual([]);
    // The WAL still holds the old blobs (only the operator's WAL retention removes them), raw: useless too.
    await dba.query('CHECKPOINT');
    const walBlobs = rawBlobs(await walFiles(dba));
    expect(walBlobs).toContain(victimBlob);
    const walLoot: Loot = { cmks: loot.cmks, keks: walBlobs.map((wrapped, version) => ({ version, wrapped })), deks: walBlobs.map((wrapped) => ({ id: victim.dekId, wrapped })) };
    expect(await attackerRecovers(attackerRoot, walLoot, stack.keyStore, victim)).toEqual([]);
    // 2. The rewritten heap files no longer hold the old blobs.
    expect(blobsIn(await heapFiles(dba), [victimBlob, ...oldKekBlobs])).toEqual([]);
    // 3. The old backup into an empty store, and into the live store: the destroyed DEK never comes back.
    const emptyStore = await stack.freshKeyStore();
    const restoredHierarchy = await KeyHierarchy.create({ rootKey: attackerRoot, keyStore: emptyStore });
    expect((await restoredHierarchy.importBackup(oldBackup)).missingInHsm.length).toBeGreaterThan(0);
    expect(await codeOf(restoredHierarchy.decryptValue(victim.ciphertext, victim.context))).toBe('KEY_DESTROYED');
    expect((await h.importBackup(oldBackup)).deks).toBe(0);
    h.clearCache();
    expect(await codeOf(h.decryptValue(victim.ciphertext, victim.context))).toBe('KEY_DESTROYED');
    expect(await h.decryptValues(survivorValues.map((ciphertext, i) => ({ ciphertext, context: ctx('tenant:survivor', `s${i + 1}`) })))).toEqual([
      'canary-survivor-1',
      'canary-survivor-2',
      'canary-survivor-3',
    ]);
    const shreds = (await h.status()).keyrings.find((k) => k.keyring === 'default')!.shreds;
    expect(shreds).toMatchObject({ pending: 0, pendingSince: null });
    await h.verifyAudit();
  });

  it('issue 11 §1: a destroy vacuums the key tables, so the erased wrapped DEK leaves the PostgreSQL heap at once', async () => {
    const stack = await postgresStack();
    closers.push(() => stack.close());
    const dba = new pg.Client({ connectionString: stack.url });
    await dba.connect();
    closers.push(() => dba.end());
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `shred-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const value = await h.encryptValue('canary-victim', ctx('tenant:victim', 'v1'));
    const blob = (await lootOf(dba)).deks.find((d) => d.id === envelopeDekId(value))!.wrapped;
    expect(blobsIn(await heapFiles(dba), [blob])).toEqual([blob]);
    await h.destroy({ kind: 'dek', id: envelopeDekId(value) }, { durable: 'deferred' });
    expect(blobsIn(await heapFiles(dba), [blob])).toEqual([]);
  });

  it('issue 11 §1: an epoch never queues VACUUM FULL behind a long transaction; it completes and says what it skipped', async () => {
    const stack = await postgresStack();
    closers.push(() => stack.close());
    const reader = new pg.Client({ connectionString: stack.url });
    await reader.connect();
    closers.push(() => reader.end());
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `shred-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const kept = await h.encryptValue('canary-kept', ctx('tenant:kept', 'k1'));
    const gone = await h.encryptValue('canary-gone', ctx('tenant:gone', 'g1'));
    await reader.query('BEGIN');
    await reader.query('LOCK TABLE keystrata_dek IN ACCESS SHARE MODE');
    try {
      await h.destroy({ kind: 'dek', id: envelopeDekId(gone) }, { durable: 'deferred' });
      const [epoch] = await h.completeShreds();
      expect(epoch!.purge).toMatch(/skipped \(locked by another transaction\): keystrata_dek, run VACUUM FULL later$/);
      expect((await h.status()).keyrings[0]!.shreds).toMatchObject({ pending: 0 });
    } finally {
      await reader.query('COMMIT');
    }
    h.clearCache();
    expect(await h.decryptValue(kept, ctx('tenant:kept', 'k1'))).toBe('canary-kept');
  });
});
