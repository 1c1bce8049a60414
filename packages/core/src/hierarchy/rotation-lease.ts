import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostname } from 'node:os';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { KeyStore } from '../key-store/key-store.js';

/** How long a lease lasts without renewal, in ms; a holder that died frees it after this. */
export const LEASE_TTL_MS = 30_000;

/** The holder name of this process's leases: host, pid and a random tag (one per call). */
const holderName = (): string => `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

/** The leases the current async context holds (per key store), so a job can call another job under the same lease. */
const heldLeases = new AsyncLocalStorage<ReadonlyArray<{ readonly keyStore: KeyStore; readonly lease: HeldLease }>>();

/**
 * Outermost {@link withLease} jobs running in this process. While none runs, `heldLeases` is
 * disabled: an AsyncLocalStorage, once used, makes Node track every promise of the process (its
 * promise hooks, about 0.1 µs a promise, paid by the application's own queries too) until it is
 * disabled. Disabling it loses nothing then: no context holds a lease.
 */
let leaseJobs = 0;

/** Options of {@link withLease}. */
export interface LeaseOptions {
  /** Lease lifetime without renewal (default {@link LEASE_TTL_MS}). */
  readonly ttlMs?: number;
  /** How long to wait for a busy lease before failing (default 0: fail at once). */
  readonly waitMs?: number;
}

/** True when `pid` is not a running process on this host. */
function isDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Takes over a lease whose holder was a process on this host that no longer runs (killed
 * mid-rotation), without waiting for the lease to expire. Atomic: the takeover applies only while
 * the stored lease still has the expiry read here (a live holder's renewal makes it fail).
 */
async function takeOverFromDeadHolder(keyStore: KeyStore, name: string, holder: string, expiresAt: string): Promise<boolean> {
  const current = await keyStore.getLease(name);
  if (current === undefined) return false;
  const [host, pid] = current.holder.split(':');
  if (host !== hostname() || !/^\d+$/.test(pid ?? '') || Number(pid) === process.pid || !isDead(Number(pid))) return false;
  const justAfter = new Date(Date.parse(current.expiresAt) + 1).toISOString();
  return keyStore.acquireLease({ name, holder, expiresAt }, justAfter);
}

/** A held lease: renewed in the background while the job runs; `assertHeld` fails once it was lost. */
export interface HeldLease {
  readonly name: string;
  readonly holder: string;
  /** Throws `ROTATION_IN_PROGRESS` when a renewal failed (another process took the lease over). */
  assertHeld(): void;
}

/**
 * Runs `job` while holding the key-store lease `name` (`keyring:<k>` or `segment:<k>:<s>`), so one
 * rotation at a time runs per keyring or segment across processes. The lease is taken before
 * anything is created, renewed every third of its lifetime and released at the end. When another
 * live holder has it, fails with `ROTATION_IN_PROGRESS` and runs nothing. Re-entrant within one
 * async context: a job already holding `name` on this key store (a shred epoch calling `rotateKek`)
 * runs the nested job under the lease it holds.
 *
 * @example
 * ```ts
 * await withLease(keyStore, `keyring:${keyring}`, 'rotate the CMK of "default"', async (lease) => {
 *   lease.assertHeld();
 *   // … create and switch key versions …
 * });
 * ```
 */
export async function withLease<T>(keyStore: KeyStore, name: string, what: string, job: (lease: HeldLease) => Promise<T>, options: LeaseOptions = {}): Promise<T> {
  // Re-entrant within one async context: a shred epoch holding `keyring:<k>` runs its KEK rotation under it.
  const outer = heldLeases.getStore() ?? [];
  const already = outer.find((held) => held.keyStore === keyStore && held.lease.name === name);
  if (already !== undefined) {
    already.lease.assertHeld();
    return job(already.lease);
  }
  const ttlMs = options.ttlMs ?? LEASE_TTL_MS;
  const holder = holderName();
  const expiry = (): string => new Date(Date.now() + ttlMs).toISOString();
  const giveUpAt = Date.now() + (options.waitMs ?? 0);
  const attempt = async (): Promise<boolean> =>
    (await keyStore.acquireLease({ name, holder, expiresAt: expiry() }, new Date().toISOString())) || (await takeOverFromDeadHolder(keyStore, name, holder, expiry()));
  let taken = await attempt();
  while (!taken && Date.now() < giveUpAt) {
    await sleep(100);
    taken = await attempt();
  }
  if (!taken) {
    const current = await keyStore.getLease(name);
    const by = current === undefined ? 'another process' : `another process (${current.holder}, lease until ${current.expiresAt})`;
    throw new KeystrataError('ROTATION_IN_PROGRESS', `Cannot ${what}: ${by} is already doing it (lease "${name}"); nothing was created.`, {
      details: { lease: name },
    });
  }
  let lost: unknown;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = keyStore.acquireLease({ name, holder, expiresAt: expiry() }, new Date().toISOString()).then(
        (ok) => {
          if (!ok) lost ??= 'taken over';
        },
        (error: unknown) => {
          lost ??= error;
        },
      );
    },
    Math.max(10, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  const lease: HeldLease = {
    name,
    holder,
    assertHeld() {
      if (lost !== undefined) {
        throw new KeystrataError('ROTATION_IN_PROGRESS', `Lost the lease "${name}" while trying to ${what} (it could not be renewed); stopped. Run the command again: it resumes.`, {
          details: { lease: name },
          ...(lost instanceof Error ? { cause: lost } : {}),
        });
      }
    },
  };
  leaseJobs++;
  try {
    return await heldLeases.run([...outer, { keyStore, lease }], () => job(lease));
  } finally {
    if (--leaseJobs === 0) heldLeases.disable();
    clearInterval(timer);
    await renewing;
    await keyStore.releaseLease(name, holder).catch(() => undefined);
  }
}
