import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyHierarchy, type FieldContext, type KeyStore } from '../src/index.js';
import { envelopeDekId } from '../src/adapter.js';
import { attackerRecovers, type Victim } from './shred-attacker.js';
import { sqliteStack } from './stacks.js';

const ctx = (segment: string, recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });

describe('review: destroy killed between its tombstone and erasing the key', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('issue 11 §1 (review): a destroy killed before its erase: the epoch erases the key before calling it durable', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    let kill = false;
    const store = new Proxy(stack.keyStore, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        if (prop === 'updateDek')
          return async (...args: unknown[]) => {
            if (kill) {
              kill = false;
              throw new Error('SIGKILL');
            }
            return value.apply(target, args);
          };
        return value.bind(target);
      },
    }) as KeyStore;
    const prefix = `rv-${Math.random().toString(36).slice(2)}`;
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: store, cmkLabelPrefix: prefix });
    await h.provision();
    const [ct] = await h.encryptValues([{ value: 'canary-victim', context: ctx('tenant:victim', 'v1') }]);
    const victim: Victim = { ciphertext: ct!, context: ctx('tenant:victim', 'v1'), dekId: envelopeDekId(ct!), plaintext: 'canary-victim' };
    kill = true;
    await expect(h.destroy({ kind: 'segment', segment: 'tenant:victim' })).rejects.toThrow();
    const [epoch] = await h.completeShreds(); // the scheduled `keystrata shred complete`
    const status = (await h.status()).keyrings[0]!.shreds;
    const fresh = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    const readable = await fresh.decryptValue(ct, ctx('tenant:victim', 'v1')).then(String, (e: Error) => e.message.slice(0, 20));
    const blobUnderLiveKek = (await stack.keyStore.loadDekChains([victim.dekId]))[0]!.dek.wrapped; // also sits in the WAL
    const retry = await h.destroy({ kind: 'segment', segment: 'tenant:victim' }); // operator reruns the destroy
    const ways = await attackerRecovers(stack.rootKey, { cmks: [], keks: [], deks: [{ id: victim.dekId, wrapped: blobUnderLiveKek }] }, stack.keyStore, victim);
    expect(epoch?.ran).toBe(true);
    expect(status.pending).toBe(0);
    expect(readable).not.toBe('canary-victim');
    expect(retry.durableAt === null || ways.length === 0).toBe(true);
  });

  it('issue 11 §1 (review): destroying again a key still live under a durable tombstone sets its shred back to pending', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    let kill = false;
    const store = new Proxy(stack.keyStore, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        if (prop === 'updateDek')
          return async (...args: unknown[]) => {
            if (kill) {
              kill = false;
              throw new Error('SIGKILL');
            }
            return value.apply(target, args);
          };
        return value.bind(target);
      },
    }) as KeyStore;
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: store, cmkLabelPrefix: `rv-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const [ct] = await h.encryptValues([{ value: 'canary-victim', context: ctx('tenant:victim', 'v1') }]);
    const dekId = envelopeDekId(ct!);
    kill = true;
    await expect(h.destroy({ kind: 'segment', segment: 'tenant:victim' }, { durable: 'deferred' })).rejects.toThrow();
    // The tombstone claims durable although the key is live (an epoch of an older version counted it, or a DBA edit).
    const db = new Database(stack.file);
    db.prepare(`UPDATE keystrata_tombstone SET durable_at = '2026-01-01T00:00:00.000Z' WHERE kind = 'dek' AND id = ?`).run(dekId);
    db.close();
    const retry = await h.destroy({ kind: 'segment', segment: 'tenant:victim' }, { durable: 'deferred' });
    const tombstone = (await stack.keyStore.listTombstones('default')).find((t) => t.kind === 'dek' && t.id === dekId);
    expect(retry.durableAt).toBeNull();
    expect(tombstone?.durableAt).toBeNull();
    expect((await stack.keyStore.loadDekChains([dekId]))[0]!.dek.wrapped).toBe('');
  });
});
