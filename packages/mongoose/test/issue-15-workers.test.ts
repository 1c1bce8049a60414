import { createMongoRotationQueue, enqueueDekRotation, runRotationWorker } from '@keystrata/core';
import { envelopeDekId } from '@keystrata/core/adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mongooseReencryptionHook } from '../src/index.js';
import { openFixture, rawPatients, type Fixture } from './support/fixture.js';

describe('issue 15 §2: DEK rotation over workers with the Mongoose hook (findOneAndUpdate leases in the key store database)', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture();
  });
  afterEach(async () => {
    await f.teardown();
  });

  it('issue 15 §2: two workers share the batches, a batch taken by a worker that died is taken over; every document ends on the new DEK with its value', async () => {
    await f.Patient.insertMany(Array.from({ length: 60 }, (_, i) => ({ tenantId: 'acme', ssn: `SSN-${i}`, email: `p${i}@example.test`, name: `p${i}` })));
    await f.Patient.create({ tenantId: 'globex', ssn: 'SSN-OTHER', email: 'other@example.test', name: 'other' });
    const other = (await rawPatients(f)).find((d) => d.tenantId === 'globex')!;
    const queue = createMongoRotationQueue(f.raw.collection('keystrata_rotation_jobs') as never, { leaseMs: 3000 });
    const hook = mongooseReencryptionHook(f.Patient);
    const plan = await enqueueDekRotation(f.hierarchy, queue, { segment: 'tenantId:acme', hook, batchSize: 10, oldKeys: 'destroy' });
    expect(plan.batches.length).toBeGreaterThanOrEqual(6);
    const dead = await queue.take(); // a worker that took a batch and was SIGKILLed
    expect(dead?.job.kind).toBe('batch');
    const summaries = await Promise.all([1, 2].map(() => runRotationWorker({ hierarchy: f.hierarchy, queue, hook, untilIdle: true, pollMs: 50 })));
    // A batch whose lease ran out while its worker was slow may run twice (compare-and-swap makes that harmless).
    expect(summaries.reduce((n, s) => n + s.batches, 0)).toBeGreaterThanOrEqual(plan.batches.length);
    expect(summaries.reduce((n, s) => n + s.finished, 0)).toBe(1);
    const after = await rawPatients(f);
    for (const doc of after.filter((d) => d.tenantId === 'acme')) expect([envelopeDekId(String(doc.ssn)), envelopeDekId(String(doc.email))]).toEqual([plan.dekId, plan.dekId]);
    expect(after.find((d) => d.tenantId === 'globex')!.ssn).toBe(other.ssn);
    f.hierarchy.clearCache();
    const read = await f.Patient.find({ tenantId: 'acme' }).lean();
    expect(read.map((p) => p.ssn).sort()).toEqual(Array.from({ length: 60 }, (_, i) => `SSN-${i}`).sort());
    expect(await queue.progress()).toEqual([]);
  });
});
