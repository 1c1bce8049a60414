import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '@keystrata/testing';
import type { DekRotationBatch } from '../src/jobs/dek-rotation-batches.js';
import { createPgBossRotationQueue } from '../src/jobs/pg-boss-rotation-queue.js';
import type { RotationJob, RotationJobQueue } from '../src/jobs/rotation-queue.js';

const batch = (index: number): RotationJob => ({
  kind: 'batch',
  batch: { keyring: 'default', segment: 's1', dekId: 'd2', oldDekIds: ['d1'], from: index === 0 ? null : `r${index}`, to: `r${index + 1}`, batchSize: 10, index } satisfies DekRotationBatch,
});
const finish: RotationJob = { kind: 'finish', keyring: 'default', segment: 's1', dekId: 'd2' };

describe('the pg-boss rotation queue (PostgreSQL, pg-boss 10)', () => {
  let url: string;
  let queue: RotationJobQueue;
  beforeAll(async () => {
    url = await createDatabase(inject('postgresUrl'), 'core_rotation_queue');
    queue = await createPgBossRotationQueue({ connectionString: url, leaseSeconds: 1, maintenanceIntervalSeconds: 1 });
  }, 60_000);
  afterAll(async () => {
    await queue?.close();
  });

  it('issue 15 §2: batches come before the finish; a job whose worker died is taken again once its lease ends; re-enqueuing and removing a rotation with jobs in it work', async () => {
    await queue.enqueue('keystrata-dek-test', [batch(0), batch(1), finish]);
    const first = await queue.take();
    expect(first?.job.kind).toBe('batch'); // batches of one insert come in no fixed order
    // Re-planned while a job is held (pg-boss's deleteQueue alone refuses a queue with jobs).
    await queue.enqueue('keystrata-dek-test', [batch(0), batch(1), finish]);
    expect(await queue.remaining('keystrata-dek-test')).toBe(3);
    const dead = await queue.take(); // its worker is SIGKILLed: never completed, never given back
    expect(dead?.job.kind).toBe('batch');
    const second = await queue.take();
    expect(second?.job.kind).toBe('batch');
    await queue.complete(second!);
    expect((await queue.progress()).find((p) => p.rotation === 'keystrata-dek-test')).toMatchObject({ segment: 's1', keyring: 'default', total: 3, done: 1, active: 1 });
    // The finish is next while the dead worker's lease runs; then the dead batch comes back.
    const early = await queue.take();
    expect(early?.job.kind).toBe('finish');
    await queue.release(early!, 0);
    let again: Awaited<ReturnType<RotationJobQueue['take']>>;
    for (let i = 0; i < 60 && again?.job.kind !== 'batch'; i++) {
      if (again !== undefined) await queue.release(again, 0);
      await sleep(250);
      again = await queue.take();
    }
    expect(again?.id).toBe(dead!.id);
    expect(again!.leaseEndsAt).toBeGreaterThan(dead!.leaseEndsAt);
    await queue.complete(again!);
    expect(await queue.remaining('keystrata-dek-test')).toBe(1);
    await queue.remove('keystrata-dek-test');
    expect(await queue.progress()).toEqual([]);
    expect(await queue.take()).toBeUndefined();
  }, 60_000);
});
