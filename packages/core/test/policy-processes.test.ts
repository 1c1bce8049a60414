import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createDatabase } from '@keystrata/testing';
import { createPostgresDriver, createSqliteDriver, KeyHierarchy, SqlKeyStore } from '../src/index.js';
import { killPolicyChildren, runPolicyChild, type PolicyChildAnswer } from './processes/policy-children.js';
import { openTestRootKey } from './stacks.js';

// Issue 15 §3 with real separate processes: block reservations, the usage limit and exactly-once
// enforcement across application instances sharing one key store (SQLite file, PostgreSQL).
afterAll(killPolicyChildren);

type Store = { db: string } | { pg: string };
const stores: Array<[string, () => Promise<Store>]> = [
  ['SQLite', async () => ({ db: join(mkdtempSync(join(tmpdir(), 'policy-processes-')), 'keys.db') })],
  ['PostgreSQL', async () => ({ pg: await createDatabase(inject('postgresUrl'), 'keystrata_policy') })],
];

describe.each(stores)('rotation policies across processes on %s', (_name, makeStore) => {
  const opened: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    killPolicyChildren();
    for (const item of opened.splice(0).reverse()) await item.close();
  });

  async function setUp() {
    const store = await makeStore();
    const rootKey = await openTestRootKey();
    const keyStore = new SqlKeyStore('pg' in store ? await createPostgresDriver({ database: store.pg }) : await createSqliteDriver({ database: store.db }));
    opened.push(rootKey, keyStore);
    const prefix = `policy-proc-${Math.random().toString(36).slice(2)}`;
    const h = await KeyHierarchy.create({ rootKey, keyStore, cmkLabelPrefix: prefix });
    await h.provision();
    return { store, keyStore, h, prefix };
  }

  const ok = (answers: PolicyChildAnswer[]): PolicyChildAnswer[] => {
    for (const a of answers) expect(a.error).toBeUndefined();
    return answers;
  };

  it('issue 15 §3: block reservations across two processes never hand out the same range (store total = sum of blocks ≥ encryptions)', async () => {
    const { store, keyStore, h, prefix } = await setUp();
    await h.policies.set({ dekUsageLimit: 16_000 }); // blocks of 1 000
    const goAt = Date.now() + 2500;
    const children = ok(await Promise.all(['a', 'b'].map((name, i) => runPolicyChild({ ...store, prefix, mode: 'write', name, seed: i + 7, segment: 'tenant-x', count: 4000, maxBatch: 50, goAt }))));
    const dekIds = [...new Set(children.flatMap((c) => Object.keys(c.perDek!)))];
    expect(dekIds).toHaveLength(1);
    const total = (await keyStore.loadDekUses(dekIds)).get(dekIds[0]!)!;
    const reservedByChildren = children.reduce((n, c) => n + c.stats!.reserved, 0);
    const used = children.reduce((n, c) => n + c.stats!.used, 0);
    // Atomic increments: had two processes been handed one range, the store's total would be lower than the sum.
    expect(total).toBe(reservedByChildren);
    expect(used).toBe(8000);
    expect(total).toBeGreaterThanOrEqual(used);
    for (const c of children) expect(c.stats!.reservations).toBeGreaterThanOrEqual(4);
  });

  it('issue 15 §3: two processes writing past the usage limit: no DEK seals more than the limit, each spent DEK is rotated exactly once', async () => {
    const { store, keyStore, h, prefix } = await setUp();
    await h.policies.set({ dekUsageLimit: 1600 }); // blocks of 100
    const goAt = Date.now() + 2500;
    const children = ok(await Promise.all(['a', 'b'].map((name, i) => runPolicyChild({ ...store, prefix, mode: 'write', name, seed: i + 3, segment: 'tenant-y', count: 3000, maxBatch: 20, goAt }))));
    const perDek = new Map<string, number>();
    for (const c of children) for (const [id, n] of Object.entries(c.perDek!)) perDek.set(id, (perDek.get(id) ?? 0) + n);
    expect([...perDek.values()].reduce((a, b) => a + b, 0)).toBe(6000);
    for (const n of perDek.values()) expect(n).toBeLessThanOrEqual(1600);
    const versions = (await keyStore.listDeks({ keyring: 'default', segment: 'tenant-y', limit: 100 })).sort((a, b) => a.version - b.version);
    expect(versions.length).toBeGreaterThanOrEqual(4); // 6 000 values, at most 1 600 per DEK
    expect(versions.map((d) => d.version)).toEqual(versions.map((_, i) => i + 1));
    const rotations = (await h.listAudit())
      .filter((r) => r.event === 'rotate' && r.subject === 'segment:default:tenant-y')
      .map((r) => JSON.parse(r.details) as { previous: string; version: number; reason: string });
    expect(rotations.map((r) => r.version).sort((a, b) => a - b)).toEqual(versions.slice(1).map((d) => d.version));
    for (const r of rotations) {
      expect(r.reason).toBe('usage-limit');
      expect(r.previous).toBe(versions[r.version - 2]!.id);
    }
    for (const dek of versions.slice(0, -1)) expect(dek.state).toBe('enabled');
  });

  it('issue 15 §3: four processes enforcing at the same moment rotate the due KEK and each due DEK exactly once', async () => {
    const { store, keyStore, h, prefix } = await setUp();
    await h.encryptValues(['s1', 's2', 's3'].map((segment) => ({ value: segment, context: { model: 'Patient', field: 'ssn', recordId: 'r1', segment } })));
    await h.policies.set({ kekValiditySeconds: 1, dekValiditySeconds: 1 });
    await sleep(1100);
    const goAt = Date.now() + 3000;
    const children = ok(await Promise.all([1, 2, 3, 4].map(() => runPolicyChild({ ...store, prefix, mode: 'enforce', goAt }))));
    expect(children.filter((c) => c.result!.kekRotated !== null).map((c) => c.result!.kekRotated)).toEqual([2]);
    expect(children.flatMap((c) => c.result!.deksRotated.map((d) => d.segment)).sort()).toEqual(['s1', 's2', 's3']);
    expect((await keyStore.listKeks('default')).map((k) => k.version)).toEqual([1, 2]);
    for (const segment of ['s1', 's2', 's3']) expect((await keyStore.listDeks({ keyring: 'default', segment, limit: 10 })).map((d) => d.version).sort()).toEqual([1, 2]);
    const automatic = (await h.listAudit()).filter((r) => r.event === 'rotate' && JSON.parse(r.details).automatic === true);
    expect(automatic.map((r) => r.subject).sort()).toEqual(['kek:default', 'segment:default:s1', 'segment:default:s2', 'segment:default:s3']);
  });
});
