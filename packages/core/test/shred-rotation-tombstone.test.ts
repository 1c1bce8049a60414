import { afterEach, describe, expect, it } from 'vitest';
import { KeyHierarchy, type FieldContext, type KeyStore, type ReencryptionHook } from '../src/index.js';
import { sqliteStack } from './stacks.js';

const ctx = (recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment: 'tenant:a' });

describe('review: DEK rotation with oldKeys destroy, killed between the destroy and its tombstone', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('issue 11 §1 (review): DEK rotation oldKeys destroy writes the tombstone before erasing, so a kill leaves a covered shred', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    let kill = false;
    const store = new Proxy(stack.keyStore, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        if (prop === 'putTombstone')
          return async (...args: unknown[]) => {
            if (kill) throw new Error('SIGKILL');
            return value.apply(target, args);
          };
        return value.bind(target);
      },
    }) as KeyStore;
    const prefix = `rv-${Math.random().toString(36).slice(2)}`;
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: store, cmkLabelPrefix: prefix, cache: { writeRecheckMs: 0 } });
    await h.provision();
    const rows = new Map<string, string>();
    for (const [i, ct] of (await h.encryptValues([1, 2].map((i) => ({ value: `v${i}`, context: ctx(`r${i}`) })))).entries()) rows.set(`r${i + 1}`, ct);
    const oldValue = rows.get('r1')!;
    const hook: ReencryptionHook = {
      async scan({ cursor }) {
        return cursor === null ? { records: [...rows].map(([id, ciphertext]) => ({ id, fields: [{ field: 'ssn', ciphertext, context: ctx(id) }] })), cursor: null } : { records: [], cursor: null };
      },
      async write(updates) {
        for (const u of updates) for (const f of u.fields) if (rows.get(u.id) === f.previous) rows.set(u.id, f.next);
        return updates.length;
      },
    };
    const backup = JSON.parse(JSON.stringify(await h.exportBackup())); // taken before the rotation
    kill = true;
    await expect(h.rotateDek({ segment: 'tenant:a', hook, oldKeys: 'destroy' })).rejects.toThrow();
    kill = false;
    const rerun = await h.rotateDek({ segment: 'tenant:a', hook, oldKeys: 'destroy' }); // resumes, reports done
    const tombstones = await stack.keyStore.listTombstones();
    const [epoch] = await h.completeShreds({ keyring: 'default' });
    // Restore of the pre-rotation backup into an empty store on the same HSM (disaster recovery).
    const fresh = await stack.freshKeyStore();
    const restored = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: fresh, cmkLabelPrefix: prefix });
    await restored.importBackup(backup);
    const back = await restored.decryptValue(oldValue, ctx('r1')).then(String, (e: Error) => e.message.slice(0, 30));
    expect(rerun.resumed).toBe(true);
    expect(epoch?.ran).toBe(true);
    expect(back).not.toBe('v1');
    expect(tombstones.length).toBeGreaterThan(0);
  });
});
