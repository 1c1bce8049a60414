import { createHash } from 'node:crypto';
import type { DekRotationBatch } from './dek-rotation-batches.js';

/**
 * Which rotation a job belongs to.
 *
 * @example
 * ```ts
 * const ref: RotationRef = { keyring: plan.keyring, segment: plan.segment, dekId: plan.dekId };
 * const rotation = rotationQueueName(ref); // the name of its jobs in the queue
 * ```
 */
export interface RotationRef {
  readonly keyring: string;
  readonly segment: string;
  /** The DEK the rotation moves the segment to. */
  readonly dekId: string;
}

/**
 * A job of a rotation: one batch to re-encrypt, or the rotation's finish (run once every batch is done).
 *
 * @example
 * ```ts
 * const jobs: RotationJob[] = [...plan.batches.map((batch) => ({ kind: 'batch' as const, batch })), { kind: 'finish', keyring: plan.keyring, segment: plan.segment, dekId: plan.dekId }];
 * await queue.enqueue(rotationQueueName(plan), jobs); // what enqueueDekRotation does
 * ```
 */
export type RotationJob = { readonly kind: 'batch'; readonly batch: DekRotationBatch } | ({ readonly kind: 'finish' } & RotationRef);

/**
 * A job a worker leased from a {@link RotationJobQueue}.
 *
 * @example
 * ```ts
 * const taken: TakenRotationJob | undefined = await queue.take();
 * if (taken?.job.kind === 'batch') {
 *   await hierarchy.dekRotationSteps.reencryptBatch(taken.job.batch, hook, () => Date.now() < taken.leaseEndsAt);
 *   await queue.complete(taken);
 * }
 * ```
 */
export interface TakenRotationJob {
  /** The rotation's queue name ({@link rotationQueueName}). */
  readonly rotation: string;
  readonly id: string;
  readonly job: RotationJob;
  /** Epoch ms when the lease ends: past it, another worker may take the job over. */
  readonly leaseEndsAt: number;
}

/**
 * Progress of one rotation across every worker.
 *
 * @example
 * ```ts
 * for (const p of await queue.progress()) {
 *   console.log(p.segment ?? p.rotation, `${p.done}/${p.total} done, ${p.active} running, ${p.failed} given up`);
 * }
 * ```
 */
export interface RotationProgress {
  readonly rotation: string;
  readonly keyring?: string;
  readonly segment?: string;
  /** Jobs of the rotation: its batches and its finish. */
  readonly total: number;
  readonly done: number;
  /** Leased by a worker now. */
  readonly active: number;
  /** Given up after too many attempts (the finish's verification re-encrypts their rows). */
  readonly failed: number;
}

/**
 * Where a rotation's jobs wait for workers. A job is leased by one worker at a time; a lease that
 * is not completed before it ends (the worker died) puts the job back for another worker.
 * Implementations: {@link createPgBossRotationQueue} (PostgreSQL, pg-boss) and
 * {@link createMemoryRotationQueue} (in-process workers, SQLite).
 *
 * @example
 * ```ts
 * const queue = createMemoryRotationQueue();
 * const taken = await queue.take();
 * if (taken !== undefined) await queue.complete(taken);
 * ```
 */
export interface RotationJobQueue {
  /** Adds a rotation's jobs, replacing any left from an earlier enqueue of the same rotation. */
  enqueue(rotation: string, jobs: readonly RotationJob[]): Promise<void>;
  /** Leases the next job of any rotation (batches before finishes), or undefined when none is ready. */
  take(): Promise<TakenRotationJob | undefined>;
  complete(taken: TakenRotationJob): Promise<void>;
  /** Gives the job back, to be taken again after `delayMs`. */
  release(taken: TakenRotationJob, delayMs: number): Promise<void>;
  /** Jobs of the rotation not done yet (waiting or leased, the caller's own included; failed ones not). */
  remaining(rotation: string): Promise<number>;
  progress(): Promise<RotationProgress[]>;
  /** Drops a finished rotation's jobs. */
  remove(rotation: string): Promise<void>;
  close(): Promise<void>;
}

/** Prefix of every rotation queue's name. */
export const ROTATION_QUEUE_PREFIX = 'keystrata-dek-';

/**
 * The queue name of one rotation: the prefix and a hash of keyring, segment and target DEK (names
 * allow only letters, digits, `_` and `-`).
 *
 * @example
 * ```ts
 * rotationQueueName({ keyring: 'default', segment: 'tenant:acme', dekId }); // 'keystrata-dek-3f…'
 * ```
 */
export function rotationQueueName(ref: RotationRef): string {
  return `${ROTATION_QUEUE_PREFIX}${createHash('sha256').update(`${ref.keyring}\0${ref.segment}\0${ref.dekId}`).digest('hex').slice(0, 24)}`;
}
