import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KeystrataError } from '../errors/keystrata-error.js';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { withLease } from './rotation-lease.js';

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );
const inAMinute = () => new Date(Date.now() + 60_000).toISOString();

describe('withLease (rotation leases)', () => {
  it('issue 11 §1 (review): a job holding a lease runs nested jobs of the same name under it; another context still waits', async () => {
    const store = new MemoryKeyStore();
    let release!: () => void;
    const outer = withLease(store, 'keyring:a', 'shred epoch', async (lease) => {
      const inner = await withLease(store, 'keyring:a', 'rotate the KEK', async (nested) => nested.holder);
      expect(inner).toBe(lease.holder);
      await new Promise<void>((r) => (release = r));
      return 'outer';
    });
    await sleep(5);
    expect(await codeOf(withLease(store, 'keyring:a', 'rotate the CMK', async () => 'ran'))).toBe('ROTATION_IN_PROGRESS');
    release();
    await expect(outer).resolves.toBe('outer');
    expect(await store.getLease('keyring:a')).toBeUndefined();
  });

  it('issue 11 §3a: one job at a time per name; the second fails with ROTATION_IN_PROGRESS and does not run', async () => {
    const store = new MemoryKeyStore();
    let runs = 0;
    let release!: () => void;
    const first = withLease(store, 'keyring:a', 'rotate', async () => {
      runs++;
      await new Promise<void>((r) => (release = r));
      return 'first';
    });
    await sleep(5);
    expect(
      await codeOf(
        withLease(store, 'keyring:a', 'rotate', async () => {
          runs++;
        }),
      ),
    ).toBe('ROTATION_IN_PROGRESS');
    await expect(withLease(store, 'keyring:b', 'rotate', async () => 'other name')).resolves.toBe('other name');
    release();
    await expect(first).resolves.toBe('first');
    expect(runs).toBe(1);
    expect(await store.getLease('keyring:a')).toBeUndefined();
    await expect(withLease(store, 'keyring:a', 'rotate', async () => 'after release')).resolves.toBe('after release');
  });

  it('issue 11 §3a: a lease taken over while the job runs stops the job at its next check', async () => {
    const store = new MemoryKeyStore();
    const outcome = withLease(
      store,
      'segment:a:s',
      'rotate the DEK',
      async (lease) => {
        // Another process takes the lease over (as if this one had stalled past the expiry).
        await store.releaseLease('segment:a:s', lease.holder);
        await store.acquireLease({ name: 'segment:a:s', holder: 'elsewhere:1:x', expiresAt: inAMinute() }, new Date().toISOString());
        await sleep(100); // more than one renewal period at this TTL
        lease.assertHeld();
        return 'kept going';
      },
      { ttlMs: 60 },
    );
    expect(await codeOf(outcome)).toBe('ROTATION_IN_PROGRESS');
    expect((await store.getLease('segment:a:s'))?.holder).toBe('elsewhere:1:x');
  });

  it('issue 11 §3a: a lease left by a killed process on this host is taken over at once; a live holder keeps it', async () => {
    const store = new MemoryKeyStore();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    await store.acquireLease({ name: 'keyring:a', holder: `${hostname()}:${dead}:x`, expiresAt: inAMinute() }, new Date().toISOString());
    await expect(withLease(store, 'keyring:a', 'rotate', async () => 'resumed')).resolves.toBe('resumed');
    await store.acquireLease({ name: 'keyring:a', holder: `${hostname()}:${process.ppid}:x`, expiresAt: inAMinute() }, new Date().toISOString());
    expect(await codeOf(withLease(store, 'keyring:a', 'rotate', async () => 'stolen'))).toBe('ROTATION_IN_PROGRESS');
  });
});
