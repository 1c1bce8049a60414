import { setTimeout as sleep } from 'node:timers/promises';
import { enqueueDekRotation, KeystrataError, runRotationWorker, type KeyHierarchy, type RotationJobQueue, type RotationWorkerEvent, type RotationWorkerSummary } from '@keystrata/core';
import type { Command, CommandContext } from '../context.js';
import { flag, intFlag, keyringFlag, requireFlag } from '../flags.js';
import { loadReencryptionHook, openRotationQueue, type LoadedHook } from '../worker-setup.js';

const OLD_KEYS = ['keep', 'disable', 'destroy'] as const;

function oldKeysFlag(c: CommandContext): (typeof OLD_KEYS)[number] {
  const value = flag(c, 'old-keys') ?? 'keep';
  if (!(OLD_KEYS as readonly string[]).includes(value)) throw new KeystrataError('CONFIG_INVALID', '--old-keys must be keep, disable or destroy.');
  return value as (typeof OLD_KEYS)[number];
}

function workersFlag(c: CommandContext): number | undefined {
  const value = flag(c, 'workers');
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new KeystrataError('CONFIG_INVALID', '--workers must be a whole number ≥ 0 (0: only enqueue, for `keystrata worker` processes).');
  return n;
}

const addUp = (summaries: readonly RotationWorkerSummary[]): RotationWorkerSummary =>
  summaries.reduce((a, s) => ({ batches: a.batches + s.batches, rewritten: a.rewritten + s.rewritten, finished: a.finished + s.finished, failures: a.failures + s.failures }), {
    batches: 0,
    rewritten: 0,
    finished: 0,
    failures: 0,
  });

/** Runs `count` worker loops here until the rotation `rotation` has left the queue (done), showing its progress. */
async function workUntilDone(
  c: CommandContext,
  hierarchy: KeyHierarchy,
  queue: RotationJobQueue,
  loaded: LoadedHook,
  rotation: string,
  segment: string,
  count: number,
): Promise<RotationWorkerSummary> {
  const stop = new AbortController();
  const loops = Array.from({ length: count }, () => runRotationWorker({ hierarchy, queue, hook: loaded.hook, signal: stop.signal, pollMs: 200 }));
  try {
    for (;;) {
      const mine = (await queue.progress()).find((p) => p.rotation === rotation);
      if (mine === undefined || mine.done + mine.failed >= mine.total) break;
      c.out.progress({ phase: `re-encrypt segment ${segment} (batches)`, done: mine.done, total: mine.total });
      await sleep(500);
    }
  } finally {
    stop.abort();
  }
  return addUp(await Promise.all(loops));
}

/**
 * `keystrata rotate dek --segment <s>`: a new DEK for the segment and its records re-encrypted
 * through the application's hook (`worker.module`). Without `--workers`, in this process; with
 * `--workers N`, split into batches in the job queue (pg-boss on PostgreSQL) and run by N workers
 * in this process together with any `keystrata worker` elsewhere; `--workers 0` only enqueues.
 *
 * @example
 * ```ts
 * await rotateDekCommand(context); // keystrata rotate dek --segment tenant:acme --workers 4
 * ```
 */
export async function rotateDekCommand(c: CommandContext): Promise<void> {
  const hierarchy = await c.hierarchy();
  const segment = requireFlag(c, 'segment');
  const keyring = keyringFlag(c);
  const oldKeys = oldKeysFlag(c);
  const batchSize = intFlag(c, 'batch-size', c.config.config.worker?.batchSize ?? 500);
  const workers = workersFlag(c);
  const loaded = await loadReencryptionHook(c.config, hierarchy);
  try {
    const options = { segment, ...(keyring ? { keyring } : {}), hook: loaded.hook, batchSize, oldKeys };
    if (workers === undefined) {
      const result = await hierarchy.rotateDek({ ...options, onProgress: (p) => c.out.progress(p) });
      c.out.result(result, () => `Segment "${segment}" is on DEK v${result.version}; ${result.reencrypted} record(s) re-encrypted${result.resumed ? ' (resumed)' : ''}; old DEKs: ${oldKeys}.`);
      return;
    }
    const { queue, distributed } = await openRotationQueue(c.config);
    try {
      if (!distributed && workers === 0) throw new KeystrataError('CONFIG_INVALID', 'With a SQLite key store the jobs live in this process: give --workers 1 or more.');
      const plan = await enqueueDekRotation(hierarchy, queue, options);
      const enqueued = { segment, keyring: plan.keyring, version: plan.version, dekId: plan.dekId, batches: plan.batches.length, resumed: plan.resumed };
      if (workers === 0) {
        c.out.result(
          enqueued,
          () => `Segment "${segment}" is on DEK v${plan.version}; ${plan.batches.length} batch(es) enqueued. \`keystrata worker\` processes re-encrypt them; \`keystrata status\` shows progress.`,
        );
        return;
      }
      const summary = await workUntilDone(c, hierarchy, queue, loaded, plan.rotation, segment, workers);
      c.out.result(
        { ...enqueued, here: summary },
        () => `Segment "${segment}" is on DEK v${plan.version}; ${plan.batches.length} batch(es) done (${summary.batches} and ${summary.rewritten} record(s) here); old DEKs: ${oldKeys}.`,
      );
    } finally {
      await queue.close();
    }
  } finally {
    await loaded.close();
  }
}

const describeEvent = (e: RotationWorkerEvent): string =>
  `${e.kind} of segment "${e.segment}": ${e.outcome}${e.rewritten === undefined ? '' : `, ${e.rewritten} record(s) re-encrypted`}${e.code === undefined ? '' : ` (${e.code}; given back for another attempt)`}`;

/** `keystrata worker`: a long-running process taking DEK re-encryption batches until SIGTERM (which lets the current batch finish). */
export const worker: Command = {
  usage: 'worker [--concurrency 1]',
  summary: 'Long-running: take DEK re-encryption batches from the job queue (PostgreSQL, pg-boss) and run them with the hook of worker.module; SIGTERM finishes the current batch.',
  async run(c) {
    const hierarchy = await c.hierarchy();
    const concurrency = intFlag(c, 'concurrency', 1);
    const { queue, distributed } = await openRotationQueue(c.config);
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    let loaded: LoadedHook | undefined;
    try {
      if (!distributed) throw new KeystrataError('CONFIG_INVALID', 'With a SQLite key store the jobs live in the process that enqueues them: run `keystrata rotate dek --segment <s> --workers N`.');
      loaded = await loadReencryptionHook(c.config, hierarchy);
      const hook = loaded.hook;
      c.out.line(`worker ${process.pid}: waiting for DEK re-encryption jobs (SIGTERM stops after the current batch)`);
      const summaries = await Promise.all(Array.from({ length: concurrency }, () => runRotationWorker({ hierarchy, queue, hook, signal: stop.signal, onJob: (e) => c.out.line(describeEvent(e)) })));
      const summary = addUp(summaries);
      c.out.result(summary, () => `worker ${process.pid} stopped: ${summary.batches} batch(es), ${summary.rewritten} record(s) re-encrypted, ${summary.finished} rotation(s) finished.`);
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await loaded?.close();
      await queue.close();
    }
  },
};
