import { randomBytes } from 'node:crypto';
import type { JobRecord } from '../key-store/records.js';
import { now, type HierarchyInternals } from '../hierarchy/internals.js';

/** What a running shred epoch remembers so that a rerun finishes it (`keystrata_job.data`). */
export interface ShredEpochPlan {
  /** Tombstones destroyed at or before this instant become durable when the epoch ends. */
  readonly cutoff: string;
  /** The CMK version the epoch creates (or created) in the HSM. */
  readonly cmkVersion: number;
  /** The KEK version the epoch created under its CMK, once made (only that version is ever adopted). */
  readonly kekVersion?: number;
  /** The process running it (absent in plans of older versions). */
  readonly owner?: string;
}

/** This process, as the owner of the epochs it runs. */
export const PROCESS_OWNER = randomBytes(8).toString('hex');

/** A running epoch of another process whose plan was not touched for this long is taken over. */
export const STALE_EPOCH_MS = 60_000;

/** The job id of a keyring's shred epoch. */
export const shredJobId = (keyring: string): string => `shred-epoch:${keyring}`;

/**
 * The plan of the keyring's unfinished epoch, if a previous run was interrupted.
 *
 * @example
 * ```ts
 * const plan = await runningShredPlan(h, 'default'); // undefined when no epoch is running
 * ```
 */
export async function runningShredPlan(h: HierarchyInternals, keyring: string): Promise<(ShredEpochPlan & { readonly updatedAt: string }) | undefined> {
  const job = await h.keyStore.getJob(shredJobId(keyring));
  return job?.state === 'running' ? { ...(JSON.parse(job.data) as ShredEpochPlan), updatedAt: job.updatedAt } : undefined;
}

/**
 * Saves the epoch's plan (`running`) or marks it finished (`done`).
 *
 * @example
 * ```ts
 * await saveShredPlan(h, 'default', plan, 'running');
 * ```
 */
export async function saveShredPlan(h: HierarchyInternals, keyring: string, plan: ShredEpochPlan, state: JobRecord['state'], processed = 0): Promise<void> {
  const { cutoff, cmkVersion, kekVersion } = plan;
  await h.keyStore.putJob({
    id: shredJobId(keyring),
    kind: 'shred-epoch',
    state,
    cursor: null,
    processed,
    data: JSON.stringify({ cutoff, cmkVersion, ...(kekVersion === undefined ? {} : { kekVersion }), owner: PROCESS_OWNER }),
    updatedAt: now(),
  });
}
