import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import type { RootKey } from '../root-key/root-key.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';
import { KeyHierarchy } from './key-hierarchy.js';

/** A RootKey written against the older interface: createCmk(label) picks its own CKA_ID. */
function ownIdRootKey(inner: SoftwareRootKey): RootKey & { ids: string[] } {
  const ids: string[] = [];
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'ids') return ids;
      if (property === 'createCmk') {
        return async (label: string) => {
          const ref = await target.createCmk(label);
          ids.push(ref.id);
          return ref;
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as RootKey & { ids: string[] };
}

describe('CMK creation under a job that remembers the HSM id', () => {
  it('issue 11 §3a: a root key that picks its own CMK id still gets its CMKs registered under the ids they really have', async () => {
    const rootKey = ownIdRootKey(new SoftwareRootKey());
    const keyStore = new MemoryKeyStore();
    const h = await KeyHierarchy.create({ rootKey, keyStore });
    await h.provision();
    await h.rotateCmk();
    const cmks = await keyStore.listCmks('default');
    expect(cmks.map((c) => c.hsmId)).toEqual(rootKey.ids);
    for (const c of cmks) expect(await rootKey.hasCmk({ label: c.hsmLabel, id: c.hsmId })).toBe(true);
    const job = await keyStore.getJob('cmk-rotation:default');
    expect(job).toMatchObject({ state: 'done' });
    expect(JSON.parse(job!.data)).toEqual({ version: 2, hsmId: rootKey.ids[1] });
    const sealed = await h.encryptValue('canary', { model: 'M', field: 'f', segment: 's' });
    h.clearCache();
    expect(await h.decryptValue(sealed, { model: 'M', field: 'f', segment: 's' })).toBe('canary');
  });

  it('issue 11 §3a: the id asked for is the id the CMK gets (so a killed run finds its object again)', async () => {
    const rootKey = new SoftwareRootKey();
    const keyStore = new MemoryKeyStore();
    const h = await KeyHierarchy.create({ rootKey, keyStore });
    await h.provision();
    await keyStore.putJob({
      id: 'cmk-rotation:default',
      kind: 'cmk-rotation',
      state: 'running',
      cursor: null,
      processed: 0,
      data: JSON.stringify({ version: 2, hsmId: 'ab'.repeat(16) }),
      updatedAt: new Date().toISOString(),
    });
    // The killed run had already created the object under the saved id.
    await rootKey.createCmk('keystrata-cmk/default/v2', 'ab'.repeat(16));
    await expect(h.rotateCmk()).resolves.toMatchObject({ version: 2, resumed: true });
    expect((await keyStore.listCmks('default')).map((c) => `${c.version}:${c.state}:${c.hsmId}`)).toEqual([
      `1:enabled:${(await keyStore.listCmks('default'))[0]!.hsmId}`,
      `2:primary:${'ab'.repeat(16)}`,
    ]);
    expect((await h.listAudit()).filter((r) => r.event === 'generate' && r.details.includes('"adopted":true'))).toHaveLength(1);
  });
});
