import { afterEach, describe, expect, it } from 'vitest';
import { KeyHierarchy, KeystrataError, type FieldContext, type KeyStore } from '../src/index.js';
import { envelopeDekId } from '../src/adapter.js';
import { attackerRecovers, type Loot, type Victim } from './shred-attacker.js';
import { sqliteStack } from './stacks.js';

const ctx = (segment: string, recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });

/** The key store, with one fault: insertKek throws while `armed` (kills the epoch after step 1, its new CMK made). */
function faulty(store: KeyStore): { store: KeyStore; arm(on: boolean): void } {
  let armed = false;
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop === 'insertKek')
        return async (...args: unknown[]) => {
          if (armed) throw new Error('killed');
          return value.apply(target, args);
        };
      return value.bind(target);
    },
  });
  return {
    store: proxy,
    arm: (on) => {
      armed = on;
    },
  };
}

describe('review: epoch interrupted after step 1, then rotate cmk', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('issue 11 §1 (review): an interrupted epoch then rotate cmk: the destroyed DEK is not recoverable once status says durable', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const f = faulty(stack.keyStore);
    const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: f.store, cmkLabelPrefix: `rv-${Math.random().toString(36).slice(2)}` });
    await h.provision();
    const [ct] = await h.encryptValues([{ value: 'canary-victim', context: ctx('tenant:victim', 'v1') }]);
    await h.encryptValues([{ value: 'canary-survivor', context: ctx('tenant:survivor', 's1') }]);
    const victim: Victim = { ciphertext: ct!, context: ctx('tenant:victim', 'v1'), dekId: envelopeDekId(ct!), plaintext: 'canary-victim' };
    // Attacker's old copy (WAL / dead tuple / old backup) of the victim's wrapped DEK.
    const oldDek = (await stack.keyStore.loadDekChains([victim.dekId]))[0]!.dek;
    await h.destroy({ kind: 'segment', segment: 'tenant:victim' }, { durable: 'deferred' });
    // The epoch dies right after step 1 (new CMK v2 primary).
    f.arm(true);
    await expect(h.completeShreds({ keyring: 'default' })).rejects.toThrow();
    f.arm(false);
    expect((await stack.keyStore.listCmks('default')).map((c) => [c.version, c.state])).toEqual([
      [1, 'enabled'],
      [2, 'primary'],
    ]);
    // An operator (or a concurrent process) runs a CMK rotation: refused while the epoch is unfinished.
    const rotated = await h.rotateCmk().then(
      () => 'rotated',
      (e: unknown) => (KeystrataError.isInstance(e) ? e.code : String(e)),
    );
    expect(rotated).toBe('ROTATION_IN_PROGRESS');
    const afterRotate = await stack.keyStore.listKeks('default');
    // The epoch resumes and reports the shred durable.
    const [result] = await h.completeShreds({ keyring: 'default' });
    const status = await h.status();
    expect(result?.ran).toBe(true);
    const loot: Loot = {
      cmks: [],
      keks: afterRotate.map((k) => ({ version: k.version, wrapped: k.wrapped })),
      deks: [{ id: oldDek.id, wrapped: oldDek.wrapped }],
    };
    const ways = await attackerRecovers(stack.rootKey, loot, stack.keyStore, victim);
    expect(status.keyrings[0]!.shreds.pending).toBe(0);
    expect((await stack.keyStore.listTombstones('default')).filter((t) => t.kind === 'dek').every((t) => t.durableAt !== null)).toBe(true);
    expect(ways).toEqual([]); // fails: the shred is reported durable but the data comes back
  });
});
