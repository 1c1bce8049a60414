import { setTimeout as sleep } from 'node:timers/promises';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { DekRotationResult } from '../hierarchy/dek-rotation.js';
import type { KeyHierarchy } from '../hierarchy/key-hierarchy.js';
import type { ReencryptionHook } from '../hierarchy/reencryption-hook.js';
import type { DekRotationPlan, DekRotationPlanOptions } from './dek-rotation-batches.js';
import { rotationQueueName, type RotationJobQueue, type TakenRotationJob } from './rotation-queue.js';

/**
 * Plans a segment's DEK rotation (new DEK primary at once, the segment split into batches) and
 * puts its batches and its finish in `queue` for workers ({@link runRotationWorker}) on any machine.
 * Running it again for a rotation still running re-plans it and replaces its jobs.
 *
 * @example
 * ```ts
 * const plan = await enqueueDekRotation(hierarchy, queue, { segment: 'tenant:acme', hook, oldKeys: 'destroy' });
 * console.log(`${plan.batches.length} batches for DEK v${plan.version}`);
 * ```
 */
export async function enqueueDekRotation(hierarchy: KeyHierarchy, queue: RotationJobQueue, options: DekRotationPlanOptions): Promise<DekRotationPlan & { readonly rotation: string }> {
  const plan = await hierarchy.dekRotationSteps.plan(options);
  const ref = { keyring: plan.keyring, segment: plan.segment, dekId: plan.dekId };
  const rotation = rotationQueueName(ref);
  await queue.enqueue(rotation, [...plan.batches.map((batch) => ({ kind: 'batch' as const, batch })), { kind: 'finish' as const, ...ref }]);
  return { ...plan, rotation };
}

/**
 * Options of {@link runRotationWorker}.
 *
 * @example
 * ```ts
 * const options: RotationWorkerOptions = { hierarchy, queue, hook, pollMs: 1000, untilIdle: true, onJob: (event) => console.log(event.kind, event.outcome) };
 * const summary = await runRotationWorker(options);
 * ```
 */
export interface RotationWorkerOptions {
  readonly hierarchy: KeyHierarchy;
  readonly queue: RotationJobQueue;
  /** The application's re-encryption hook (its adapter's `…ReencryptionHook`). */
  readonly hook: ReencryptionHook;
  /** Stops the worker after the job it is running (SIGTERM). */
  readonly signal?: AbortSignal;
  /** Wait between polls of an empty queue (default 500 ms). */
  readonly pollMs?: number;
  /** Stop once no rotation is left in the queue (default false: run until `signal`). */
  readonly untilIdle?: boolean;
  /** Called after each job (for logs and progress; no values or keys). */
  readonly onJob?: (event: RotationWorkerEvent) => void;
}

/**
 * What one job did.
 *
 * @example
 * ```ts
 * const onJob = (event: RotationWorkerEvent) => {
 *   if (event.outcome === 'failed') console.warn(`${event.kind} of ${event.segment} failed (${event.code}): given back for a retry`);
 *   else if (event.kind === 'batch') console.log(`${event.segment}: ${event.rewritten ?? 0} of ${event.scanned ?? 0} rewritten`);
 * };
 * await runRotationWorker({ hierarchy, queue, hook, onJob });
 * ```
 */
export interface RotationWorkerEvent {
  readonly kind: 'batch' | 'finish';
  readonly rotation: string;
  readonly segment: string;
  /** `done`, `waiting` (a finish taken while batches remain), `stale` (rotation no longer running) or `failed` (given back for a retry). */
  readonly outcome: 'done' | 'waiting' | 'stale' | 'failed';
  readonly scanned?: number;
  readonly rewritten?: number;
  readonly code?: string;
  readonly result?: DekRotationResult;
}

/**
 * What a worker did before it stopped.
 *
 * @example
 * ```ts
 * const { batches, rewritten, finished, failures }: RotationWorkerSummary = await runRotationWorker({ hierarchy, queue, hook, untilIdle: true });
 * console.log(`${batches} batches, ${rewritten} rewritten, ${finished} rotation(s) finished, ${failures} failure(s)`);
 * ```
 */
export interface RotationWorkerSummary {
  readonly batches: number;
  readonly rewritten: number;
  readonly finished: number;
  readonly failures: number;
}

const codeOf = (error: unknown): string => (error instanceof KeystrataError ? error.code : 'INTERNAL');

/**
 * Takes rotation jobs from `queue` until `signal` aborts (or, with `untilIdle`, until no rotation
 * is left): re-encrypts each batch through the hook with compare-and-swap writes, and runs a
 * rotation's finish once its batches are done (verification, old DEKs retired, under the segment's
 * lease). A job that fails is given back to the queue for another attempt; a worker that dies loses
 * only its lease. Never rejects for a job's failure; a failing queue (database down) is retried.
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * process.once('SIGTERM', () => stop.abort());
 * await runRotationWorker({ hierarchy, queue, hook, signal: stop.signal });
 * ```
 */
export async function runRotationWorker(options: RotationWorkerOptions): Promise<RotationWorkerSummary> {
  const { queue, signal } = options;
  const pollMs = options.pollMs ?? 500;
  const summary = { batches: 0, rewritten: 0, finished: 0, failures: 0 };
  const wait = (ms: number) => sleep(ms, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
  while (signal?.aborted !== true) {
    let taken: TakenRotationJob | undefined;
    try {
      taken = await queue.take();
      // Idle: every rotation in the queue is done (or gone); a finish that failed to drop its jobs does not keep workers up.
      if (taken === undefined && options.untilIdle === true && (await queue.progress()).every((p) => p.done + p.failed >= p.total)) break;
    } catch {
      summary.failures++;
      await wait(pollMs * 4);
      continue;
    }
    if (taken === undefined) {
      await wait(pollMs);
      continue;
    }
    const event = await runJob(options, taken);
    if (event.outcome === 'failed') summary.failures++;
    if (event.kind === 'batch' && event.outcome === 'done') {
      summary.batches++;
      summary.rewritten += event.rewritten ?? 0;
    }
    if (event.kind === 'finish' && event.outcome === 'done') summary.finished++;
    options.onJob?.(event);
    // A finish waiting for batches is polled, not spun on.
    if (event.outcome === 'waiting') await wait(pollMs);
  }
  return summary;
}

async function runJob(options: RotationWorkerOptions, taken: TakenRotationJob): Promise<RotationWorkerEvent> {
  const { hierarchy, queue, hook } = options;
  const { job, rotation } = taken;
  const segment = job.kind === 'batch' ? job.batch.segment : job.segment;
  try {
    if (job.kind === 'batch') {
      const result = await hierarchy.dekRotationSteps.reencryptBatch(job.batch, hook, () => Date.now() < taken.leaseEndsAt);
      await queue.complete(taken);
      return { kind: 'batch', rotation, segment, outcome: result.current ? 'done' : 'stale', scanned: result.scanned, rewritten: result.rewritten };
    }
    if ((await queue.remaining(rotation)) > 1) {
      await queue.release(taken, options.pollMs ?? 500);
      return { kind: 'finish', rotation, segment, outcome: 'waiting' };
    }
    const result = await hierarchy.dekRotationSteps.finish({ keyring: job.keyring, segment: job.segment, dekId: job.dekId }, hook);
    await queue.complete(taken);
    await queue.remove(rotation);
    return { kind: 'finish', rotation, segment, outcome: result === undefined ? 'stale' : 'done', ...(result === undefined ? {} : { result }) };
  } catch (error) {
    await queue.release(taken, 1000).catch(() => undefined);
    return { kind: job.kind, rotation, segment, outcome: 'failed', code: codeOf(error) };
  }
}
