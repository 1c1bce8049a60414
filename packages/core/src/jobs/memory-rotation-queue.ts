import type { RotationJob, RotationJobQueue, RotationProgress, TakenRotationJob } from './rotation-queue.js';

interface Entry {
  readonly id: string;
  readonly rotation: string;
  readonly job: RotationJob;
  state: 'waiting' | 'active' | 'done' | 'failed';
  attempts: number;
  availableAt: number;
  leaseEndsAt: number;
}

/**
 * A {@link RotationJobQueue} in this process's memory: workers in this process only (SQLite, whose
 * key store is one machine's file, and tests). Jobs are lost with the process; running
 * `rotate dek` again re-plans the rotation it was doing.
 *
 * @example
 * ```ts
 * const queue = createMemoryRotationQueue({ leaseMs: 60_000 });
 * ```
 */
export function createMemoryRotationQueue(options: { readonly leaseMs?: number; readonly retryLimit?: number } = {}): RotationJobQueue {
  const leaseMs = options.leaseMs ?? 60_000;
  const attemptLimit = (options.retryLimit ?? 100) + 1;
  let entries: Entry[] = [];
  let nextId = 1;
  const ready = (entry: Entry, at: number): boolean => (entry.state === 'waiting' && entry.availableAt <= at) || (entry.state === 'active' && entry.leaseEndsAt <= at);
  const rotations = (): string[] => [...new Set(entries.map((e) => e.rotation))];
  return {
    async enqueue(rotation, jobs) {
      entries = entries.filter((e) => e.rotation !== rotation);
      for (const job of jobs) entries.push({ id: String(nextId++), rotation, job, state: 'waiting', attempts: 0, availableAt: 0, leaseEndsAt: 0 });
    },
    async take() {
      const at = Date.now();
      // Given up after too many attempts (pg-boss's retryLimit): the finish's verification re-encrypts their rows.
      // (Only batches: a finish is taken again and again while batches run.)
      for (const e of entries) if (e.job.kind === 'batch' && e.attempts >= attemptLimit && ready(e, at)) e.state = 'failed';
      const entry = entries.find((e) => e.job.kind === 'batch' && ready(e, at)) ?? entries.find((e) => ready(e, at));
      if (entry === undefined) return undefined;
      entry.attempts++;
      entry.state = 'active';
      entry.leaseEndsAt = at + leaseMs;
      return { rotation: entry.rotation, id: entry.id, job: entry.job, leaseEndsAt: entry.leaseEndsAt } satisfies TakenRotationJob;
    },
    async complete(taken) {
      const entry = entries.find((e) => e.id === taken.id);
      if (entry?.state === 'active' && entry.leaseEndsAt === taken.leaseEndsAt) entry.state = 'done';
    },
    async release(taken, delayMs) {
      const entry = entries.find((e) => e.id === taken.id);
      if (entry?.state !== 'active' || entry.leaseEndsAt !== taken.leaseEndsAt) return;
      entry.state = 'waiting';
      entry.availableAt = Date.now() + delayMs;
    },
    async remaining(rotation) {
      return entries.filter((e) => e.rotation === rotation && (e.state === 'waiting' || e.state === 'active')).length;
    },
    async progress() {
      return rotations().map((rotation): RotationProgress => {
        const own = entries.filter((e) => e.rotation === rotation);
        const finish = own.find((e) => e.job.kind === 'finish')?.job;
        const at = Date.now();
        return {
          rotation,
          ...(finish?.kind === 'finish' ? { keyring: finish.keyring, segment: finish.segment } : {}),
          total: own.length,
          done: own.filter((e) => e.state === 'done').length,
          active: own.filter((e) => e.state === 'active' && e.leaseEndsAt > at).length,
          failed: own.filter((e) => e.state === 'failed').length,
        };
      });
    },
    async remove(rotation) {
      entries = entries.filter((e) => e.rotation !== rotation);
    },
    async close() {
      entries = [];
    },
  };
}
