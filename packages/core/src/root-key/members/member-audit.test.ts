import { describe, expect, it, vi } from 'vitest';
import { KeystrataError } from '../../errors/keystrata-error.js';
import { KeyHierarchy } from '../../hierarchy/key-hierarchy.js';
import { withLease } from '../../hierarchy/rotation-lease.js';
import { MemoryKeyStore } from '../../key-store/memory-key-store.js';
import { SoftwareRootKey } from '../software-root-key.js';
import type { RootKey } from '../root-key.js';
import { MemberRootKey } from './member-root-key.js';

/** A SoftwareRootKey failing every call with HSM_UNAVAILABLE while `down` (unit-test stand-in for a lost device). */
function switchable(): { rootKey: RootKey; down: boolean } {
  const inner = new SoftwareRootKey();
  const control = { down: false, rootKey: undefined as unknown as RootKey };
  control.rootKey = new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function' || property === 'close') return value;
      return (...args: unknown[]) => (control.down ? Promise.reject(new KeystrataError('HSM_UNAVAILABLE', 'down on purpose')) : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return control;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Two independent switchable members (no background probe), a memory key store, a provisioned hierarchy. */
async function twoMembers() {
  const a = switchable();
  const b = switchable();
  const rootKey = MemberRootKey.create({
    kind: 'independent',
    members: [
      { name: 'a', rootKey: a.rootKey },
      { name: 'b', rootKey: b.rootKey },
    ],
    probeIntervalMs: 3_600_000,
  });
  const keyStore = new MemoryKeyStore();
  const h = await KeyHierarchy.create({ rootKey, keyStore });
  await h.provision();
  return { a, b, rootKey, keyStore, h };
}

describe('member state changes in the audit trail and the sync after a rejoin (unit)', () => {
  it('issue 14 §rejoin: a member that rejoins while a rotation holds the keyring lease is synced after the lease, never under it', async () => {
    const { b, rootKey, keyStore, h } = await twoMembers();
    b.down = true;
    await h.rotateKek(); // KEK v2: only A's copy (B is out)
    expect(rootKey.stats.members!.map((m) => m.state)).toEqual(['healthy', 'unhealthy']);
    const holders = async () => [...rootKey.copies(Buffer.from((await keyStore.listKeks('default')).find((k) => k.version === 2)!.wrapped, 'base64')).keys()];
    expect(await holders()).toEqual(['a']);
    b.down = false;
    await withLease(keyStore, 'keyring:default', 'a rotation', async () => {
      await rootKey.probe(); // B rejoins inside the rotation's async context
      await sleep(200);
      expect(await holders()).toEqual(['a']);
    });
    await vi.waitFor(async () => expect(await holders()).toEqual(['a', 'b']), { timeout: 5000, interval: 50 });
    const records = (await keyStore.listAudit(0, 100)).filter((r) => r.event === 'member').map((r) => JSON.parse(r.details) as Record<string, unknown>);
    expect(records.map((r) => r.action ?? `${r.member}:${r.from}->${r.to}`)).toEqual(['b:healthy->unhealthy', 'b:unhealthy->healthy', 'sync']);
    await h.verifyAudit();
  });

  it('issue 14 §rejoin: the background sync after a rejoin with nothing to copy writes no audit record', async () => {
    const { b, rootKey, keyStore } = await twoMembers();
    b.down = true;
    await expect(rootKey.hasCmk({ label: 'x', id: '00' })).resolves.toBe(false);
    for (let i = 0; i < 4 && rootKey.stats.members![1]!.state === 'healthy'; i++) await rootKey.hasCmk({ label: 'x', id: '00' });
    b.down = false;
    await rootKey.probe();
    await vi.waitFor(async () => expect((await keyStore.listAudit(0, 100)).filter((r) => r.event === 'member').length).toBe(2), { timeout: 5000, interval: 50 });
    await sleep(200);
    expect((await keyStore.listAudit(0, 100)).filter((r) => r.event === 'member').map((r) => JSON.parse(r.details).action)).toEqual([undefined, undefined]);
  });
});
