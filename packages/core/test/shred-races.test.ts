import { afterEach, describe, expect, it } from 'vitest';
import { KeyHierarchy, KeystrataError, type FieldContext, type KeyStore } from '../src/index.js';
import { envelopeDekId } from '../src/adapter.js';
import { attackerRecovers, type Victim } from './shred-attacker.js';
import { sqliteStack } from './stacks.js';

const ctx = (segment: string, recordId: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });

/** The key store with one gate: the next call of `method` waits (after `reached`) until `open()`. */
function gated(store: KeyStore, method: string) {
  let armed = false;
  let open!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const arrived = new Promise<void>((r) => {
    reached = r;
  });
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop === method)
        return async (...args: unknown[]) => {
          if (armed) {
            armed = false;
            reached();
            await opened;
          }
          return value.apply(target, args);
        };
      return value.bind(target);
    },
  });
  return {
    store: proxy,
    arm: () => {
      armed = true;
    },
    open: () => open(),
    arrived,
  };
}

describe('review: races with a shred epoch', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('issue 11 §1 (review): a DEK created while an epoch runs (wrapped under the KEK the epoch destroys) stays readable', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const prefix = `rv-${Math.random().toString(36).slice(2)}`;
    const g = gated(stack.keyStore, 'insertDek');
    const writer = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: g.store, cmkLabelPrefix: prefix });
    const admin = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    await admin.provision();
    await admin.encryptValues([{ value: 'x', context: ctx('tenant:gone', 'g1') }]);
    g.arm();
    const write = writer.encryptValues([{ value: 'precious', context: ctx('tenant:new', 'n1') }]);
    await g.arrived; // the writer read primary KEK v1 and wrapped its new DEK under it
    await admin.destroy({ kind: 'segment', segment: 'tenant:gone' }); // durable: 'now' → epoch
    g.open();
    const [ct] = await write; // reported as written
    const reader = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    const code = await reader.decryptValue(ct, ctx('tenant:new', 'n1')).then(
      () => 'ok',
      (e) => (KeystrataError.isInstance(e) ? e.code : String(e)),
    );
    const later = await reader.encryptValues([{ value: 'next', context: ctx('tenant:new', 'n2') }]).then(
      () => 'ok',
      (e) => (KeystrataError.isInstance(e) ? e.code : String(e)),
    );
    expect(later).toBe('ok');
    expect(code).toBe('ok');
  });

  it('issue 11 §1 (review): a destroy racing an epoch is never reported durable while its DEK blob exists under the live epoch KEK', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const prefix = `rv-${Math.random().toString(36).slice(2)}`;
    const g = gated(stack.keyStore, 'updateDek');
    const a = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: g.store, cmkLabelPrefix: prefix });
    const b = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    await b.provision();
    const [ct] = await b.encryptValues([{ value: 'canary-victim', context: ctx('tenant:victim', 'v1') }]);
    await b.encryptValues([{ value: 'y', context: ctx('tenant:other', 'o1') }]);
    await b.destroy({ kind: 'segment', segment: 'tenant:other' }, { durable: 'deferred' });
    const victim: Victim = { ciphertext: ct!, context: ctx('tenant:victim', 'v1'), dekId: envelopeDekId(ct!), plaintext: 'canary-victim' };
    g.arm();
    const destroying = a.destroy({ kind: 'segment', segment: 'tenant:victim' }); // durable: 'now'
    await g.arrived; // tombstone written, row not yet erased
    await b.completeShreds({ keyring: 'default' }); // e.g. the scheduled `keystrata shred complete`
    // What the epoch wrote for the victim's DEK (sits in the -wal / dead tuples afterwards).
    const rewrapped = (await stack.keyStore.loadDekChains([victim.dekId]))[0]!.dek;
    g.open();
    const impact = await destroying;
    const ways = await attackerRecovers(stack.rootKey, { cmks: [], keks: [], deks: [{ id: rewrapped.id, wrapped: rewrapped.wrapped }] }, stack.keyStore, victim);
    expect(impact.durableAt === null || ways.length === 0).toBe(true);
  });

  it('issue 11 §1 (review): a DEK inserted under the old KEK after the epoch last checked it, the writer seeing it live, is moved by the epoch', async () => {
    const stack = await sqliteStack();
    closers.push(() => stack.close());
    const prefix = `rv-${Math.random().toString(36).slice(2)}`;
    const w = gated(stack.keyStore, 'insertDek');
    const e = gated(stack.keyStore, 'updateKek');
    const writer = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: w.store, cmkLabelPrefix: prefix });
    const admin = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: e.store, cmkLabelPrefix: prefix });
    await admin.provision();
    await admin.encryptValues([{ value: 'x', context: ctx('tenant:gone', 'g1') }]);
    w.arm();
    const write = writer.encryptValues([{ value: 'precious', context: ctx('tenant:new', 'n1') }]);
    await w.arrived; // wrapped under KEK v1, not inserted yet
    e.arm();
    const destroying = admin.destroy({ kind: 'segment', segment: 'tenant:gone' }); // durable: 'now' → epoch
    await e.arrived; // the epoch checked KEK v1 has no live DEK and is about to destroy it
    w.open();
    const [ct] = await write; // inserted under KEK v1, which the writer still sees live
    e.open();
    const impact = await destroying;
    const reader = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    const code = await reader.decryptValue(ct!, ctx('tenant:new', 'n1')).then(String, (err) => (KeystrataError.isInstance(err) ? err.code : String(err)));
    expect(impact.durableAt).not.toBeNull();
    expect((await stack.keyStore.listKeks('default')).find((k) => k.version === 1)?.state).toBe('destroyed');
    expect((await stack.keyStore.loadDekChains([envelopeDekId(ct!)]))[0]!.dek.kekVersion).toBe(2);
    expect(code).toBe('precious');
  });
});
