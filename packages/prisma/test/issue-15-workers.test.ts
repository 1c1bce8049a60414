import { createMemoryRotationQueue, enqueueDekRotation, runRotationWorker } from '@keystrata/core';
import { envelopeDekId } from '@keystrata/core/adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prismaReencryptionHook } from '../src/index.js';
import { STACKS, type Stack } from './support/stacks.js';

describe.each(STACKS)('issue 15 §2: DEK rotation over workers with prismaReencryptionHook on %s', (_name, makeStack) => {
  let s: Stack;
  beforeEach(async () => {
    s = await makeStack();
  });
  afterEach(async () => {
    await s.close();
  });

  it('issue 15 §2: the Prisma hook works with the worker path: three workers, one batch lost with a dead worker and taken over; every row on the new DEK with its value', async () => {
    await s.db.patient.createMany({ data: Array.from({ length: 45 }, (_, n) => ({ tenantId: 'tenant-a', ssn: `SSN-${n}`, email: `w-${n}@example.test` })) });
    await s.db.patient.create({ data: { tenantId: 'tenant-b', ssn: 'SSN-B', email: 'b@example.test' } });
    const queue = createMemoryRotationQueue({ leaseMs: 200 });
    const hook = prismaReencryptionHook(s.db);
    const plan = await enqueueDekRotation(s.hierarchy, queue, { segment: 'tenantId:tenant-a', hook, batchSize: 10, oldKeys: 'disable' });
    expect((await queue.take())?.job.kind).toBe('batch'); // taken by a worker that died
    const summaries = await Promise.all([1, 2, 3].map(() => runRotationWorker({ hierarchy: s.hierarchy, queue, hook, untilIdle: true, pollMs: 20 })));
    expect(summaries.reduce((n, x) => n + x.finished, 0)).toBe(1);
    const raw = await s.raw.all('SELECT "ssn", "email", "tenantId" FROM "Patient"');
    for (const row of raw.filter((r) => r.tenantId === 'tenant-a')) expect([envelopeDekId(String(row.ssn)), envelopeDekId(String(row.email))]).toEqual([plan.dekId, plan.dekId]);
    expect(raw.filter((r) => r.tenantId === 'tenant-b').map((r) => envelopeDekId(String(r.ssn)))).not.toContain(plan.dekId);
    const read = await s.db.patient.findMany({ where: { tenantId: 'tenant-a' } });
    expect(read.map((p) => p.ssn).sort()).toEqual(Array.from({ length: 45 }, (_, n) => `SSN-${n}`).sort());
  });
});
