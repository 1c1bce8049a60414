import { describe, expect, it } from 'vitest';
import { promisesTracked } from '@keystrata/testing';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';
import { KeyHierarchy } from './key-hierarchy.js';
import { withLease } from './rotation-lease.js';

describe('promise tracking after key-management jobs (issue 16 §W3)', () => {
  it('issue 16 §W3: provision(), rotateKek() and rotateCmk() leave no promise tracking on in the process; a job tracks only while it runs', async () => {
    expect(await promisesTracked()).toBe(false); // the probe's baseline in this test process
    const hierarchy = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore() });
    await hierarchy.provision();
    expect(await promisesTracked()).toBe(false);
    await hierarchy.rotateKek();
    await hierarchy.rotateCmk();
    expect(await promisesTracked()).toBe(false);
    // The probe does see it: inside a lease job the lease context is live.
    const duringJob = await withLease(new MemoryKeyStore(), 'keyring:probe', 'probe', async () => promisesTracked());
    expect(duringJob).toBe(true);
    expect(await promisesTracked()).toBe(false);
    const sealed = await hierarchy.encryptValue('still works', { model: 'M', field: 'f', segment: 's' });
    expect(await hierarchy.decryptValue(sealed, { model: 'M', field: 'f', segment: 's' })).toBe('still works');
    await hierarchy.close();
  });

  it('issue 16 §W3: tracking stays on while any of two overlapping jobs runs, and nesting still works after it was turned off', async () => {
    const store = new MemoryKeyStore();
    let releaseFirst!: () => void;
    const first = withLease(store, 'keyring:a', 'first', () => new Promise<void>((resolve) => (releaseFirst = resolve)));
    const second = withLease(store, 'keyring:b', 'second', async (lease) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      releaseFirst();
      await first; // the first job ended: the second still holds its context, so this nests under its lease
      return (await withLease(store, 'keyring:b', 'nested', async (nested) => nested.holder)) === lease.holder;
    });
    expect(await second).toBe(true);
    expect(await promisesTracked()).toBe(false);
    // A later job nests under its own lease again (the context was re-enabled for it).
    const nested = await withLease(store, 'keyring:a', 'outer', async (lease) => (await withLease(store, 'keyring:a', 'inner', async (inner) => inner.holder)) === lease.holder);
    expect(nested).toBe(true);
  });
});
