import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyHierarchy, KeystrataError, type FieldContext } from '../src/index.js';
import { envelopeDekId } from '../src/adapter.js';
import { attackerRecovers, type Loot, type Victim } from './shred-attacker.js';
import { sqliteStack } from './stacks.js';

const ctx = (segment: string, recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });

describe('review: epoch trusts the CMK row to find the HSM object it destroys', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('issue 11 §1 (review): a DBA edits hsm_id of the old CMK: the epoch finds the object by label and destroys it before saying durable', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `rv-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const [ct] = await h.encryptValues([{ value: 'canary-victim', context: ctx('tenant:victim', 'v1') }]);
    await h.encryptValues([{ value: 'survivor', context: ctx('tenant:survivor', 's1') }]); // KEK v1 now cached, as in any busy app
    const victim: Victim = { ciphertext: ct!, context: ctx('tenant:victim', 'v1'), dekId: envelopeDekId(ct!), plaintext: 'canary-victim' };
    const db = new Database(stack.file);
    const loot: Loot = {
      cmks: db.prepare('SELECT version, hsm_label AS hsmLabel, hsm_id AS hsmId FROM keystrata_cmk').all() as Loot['cmks'],
      keks: db.prepare('SELECT version, wrapped FROM keystrata_kek').all() as Loot['keks'],
      deks: db.prepare('SELECT id, wrapped FROM keystrata_dek').all() as Loot['deks'],
    };
    db.prepare(`UPDATE keystrata_cmk SET hsm_id = '00' WHERE version = 1`).run();
    db.close();
    const impact = await h.destroy({ kind: 'segment', segment: 'tenant:victim' }); // durable: 'now'
    const cmks = await stack.keyStore.listCmks('default');
    const stillInHsm = await stack.rootKey.hasCmk({ label: loot.cmks[0]!.hsmLabel, id: loot.cmks[0]!.hsmId });
    const ways = await attackerRecovers(stack.rootKey, loot, stack.keyStore, victim);
    expect(cmks.find((c) => c.version === 1)?.state).toBe('retired');
    expect(stillInHsm).toBe(false);
    expect(impact.durableAt === null || ways.length === 0).toBe(true);
  });
  it('issue 11 §1 (review): a DBA marks every CMK row retired: completeShreds refuses (the HSM still holds it) and marks nothing durable', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `rv-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const [ct] = await h.encryptValues([{ value: 'canary-victim', context: ctx('tenant:victim', 'v1') }]);
    const victim: Victim = { ciphertext: ct!, context: ctx('tenant:victim', 'v1'), dekId: envelopeDekId(ct!), plaintext: 'canary-victim' };
    const db = new Database(stack.file);
    const loot: Loot = {
      cmks: db.prepare('SELECT version, hsm_label AS hsmLabel, hsm_id AS hsmId FROM keystrata_cmk').all() as Loot['cmks'],
      keks: db.prepare('SELECT version, wrapped FROM keystrata_kek').all() as Loot['keks'],
      deks: db.prepare('SELECT id, wrapped FROM keystrata_dek').all() as Loot['deks'],
    };
    await h.destroy({ kind: 'segment', segment: 'tenant:victim' }, { durable: 'deferred' });
    db.prepare(`UPDATE keystrata_cmk SET state = 'retired'`).run();
    // Refused: the HSM still holds CMK v1 although every row says retired (nothing is marked durable).
    const result = await h.completeShreds({ keyring: 'default' }).then(
      () => 'completed',
      (e: unknown) => (KeystrataError.isInstance(e) ? e.code : String(e)),
    );
    expect(result).toBe('KEYSTORE_TAMPERED');
    db.prepare(`UPDATE keystrata_cmk SET state = 'primary'`).run();
    db.close();
    const tombstones = await stack.keyStore.listTombstones('default');
    const ways = await attackerRecovers(stack.rootKey, loot, stack.keyStore, victim);
    expect(tombstones.every((t) => t.durableAt === null) || ways.length === 0).toBe(true);
  });
  it('issue 11 §1 (review): destroying the CMK after a DBA edited its hsm_id still destroys the object in the HSM', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `rv-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const [ct] = await h.encryptValues([{ value: 'canary-victim', context: ctx('tenant:victim', 'v1') }]);
    const victim: Victim = { ciphertext: ct!, context: ctx('tenant:victim', 'v1'), dekId: envelopeDekId(ct!), plaintext: 'canary-victim' };
    const db = new Database(stack.file);
    const loot: Loot = {
      cmks: db.prepare('SELECT version, hsm_label AS hsmLabel, hsm_id AS hsmId FROM keystrata_cmk').all() as Loot['cmks'],
      keks: db.prepare('SELECT version, wrapped FROM keystrata_kek').all() as Loot['keks'],
      deks: db.prepare('SELECT id, wrapped FROM keystrata_dek').all() as Loot['deks'],
    };
    db.prepare(`UPDATE keystrata_cmk SET hsm_id = '00' WHERE version = 1`).run();
    db.close();
    const impact = await h.destroy({ kind: 'cmk' }, { confirm: 'default' });
    expect(impact.durableAt).not.toBeNull();
    expect(await stack.rootKey.hasCmk({ label: loot.cmks[0]!.hsmLabel, id: loot.cmks[0]!.hsmId })).toBe(false);
    expect(await attackerRecovers(stack.rootKey, loot, stack.keyStore, victim)).toEqual([]);
  });
});
