import { describe, expect, it } from 'vitest';
import { envelopeDekId } from '../envelope/envelope-format.js';
import type { FieldContext } from '../envelope/field-context.js';
import { KeyHierarchy } from '../hierarchy/key-hierarchy.js';
import type { ReencryptionHook } from '../hierarchy/reencryption-hook.js';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';
import { createMemoryRotationQueue } from './memory-rotation-queue.js';
import { enqueueDekRotation, runRotationWorker } from './rotation-worker.js';

const ctx = (id: string): FieldContext => ({ model: 'Patient', field: 'ssn', recordId: id, segment: 's1' });

/** A table in memory, sorted by id, with a compare-and-swap write: what an adapter's hook does over SQL. */
function memoryTable(rows: Map<string, string>): ReencryptionHook {
  return {
    async scan({ cursor, limit }) {
      const ids = [...rows.keys()].sort().filter((id) => cursor === null || id > cursor);
      const page = ids.slice(0, limit);
      return { records: page.map((id) => ({ id, fields: [{ field: 'ssn', ciphertext: rows.get(id)!, context: ctx(id) }] })), cursor: page.length < limit ? null : page.at(-1)! };
    },
    async write(updates) {
      let written = 0;
      for (const u of updates) {
        const f = u.fields[0]!;
        if (rows.get(u.id) === f.previous) {
          rows.set(u.id, f.next);
          written++;
        }
      }
      return written;
    },
  };
}

async function setUp(count: number) {
  const h = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore(), cache: { writeRecheckMs: 0 } });
  await h.provision();
  const ids = Array.from({ length: count }, (_, i) => `r${String(i).padStart(4, '0')}`);
  const sealed = await h.encryptValues(ids.map((id) => ({ value: `v-${id}`, context: ctx(id) })));
  const rows = new Map(ids.map((id, i) => [id, sealed[i]!]));
  return { h, rows, ids, hook: memoryTable(rows) };
}

describe('DEK rotation over workers (unit, in-process queue)', () => {
  it('issue 15 §2: three workers share the batches; every row ends on the new DEK with its value, and the old DEK is destroyed once', async () => {
    const { h, rows, hook } = await setUp(230);
    const queue = createMemoryRotationQueue();
    const plan = await enqueueDekRotation(h, queue, { segment: 's1', hook, batchSize: 20, oldKeys: 'destroy' });
    expect(plan.batches).toHaveLength(12);
    expect(new Set([...rows.values()].map(envelopeDekId)).has(plan.dekId)).toBe(false);
    const summaries = await Promise.all([1, 2, 3].map(() => runRotationWorker({ hierarchy: h, queue, hook, untilIdle: true, pollMs: 5 })));
    expect(summaries.reduce((n, s) => n + s.batches, 0)).toBe(12);
    expect(summaries.reduce((n, s) => n + s.finished, 0)).toBe(1);
    expect(summaries.reduce((n, s) => n + s.rewritten, 0)).toBe(230);
    expect(new Set([...rows.values()].map(envelopeDekId))).toEqual(new Set([plan.dekId]));
    const values = await h.decryptValues([...rows].map(([id, ciphertext]) => ({ ciphertext, context: ctx(id) })));
    expect(values).toEqual([...rows.keys()].map((id) => `v-${id}`));
    expect((await h.status()).keyrings[0]!.deks).toMatchObject({ primary: 1, destroyed: 1 });
    expect(await queue.progress()).toEqual([]);
  });

  it('issue 15 §2: a worker that takes a batch and dies loses only its lease; another worker takes the batch over and no row is skipped', async () => {
    const { h, rows, hook } = await setUp(100);
    const queue = createMemoryRotationQueue({ leaseMs: 50 });
    const plan = await enqueueDekRotation(h, queue, { segment: 's1', hook, batchSize: 25 });
    const dead = await queue.take(); // taken, never completed: the worker was SIGKILLed
    expect(dead?.job.kind).toBe('batch');
    const summary = await runRotationWorker({ hierarchy: h, queue, hook, untilIdle: true, pollMs: 10 });
    expect(summary).toMatchObject({ batches: 5, finished: 1, rewritten: 100 }); // four full pages and the empty end
    expect(new Set([...rows.values()].map(envelopeDekId))).toEqual(new Set([plan.dekId]));
  });

  it('issue 15 §2: a late batch of a finished rotation changes nothing', async () => {
    const { h, rows, hook } = await setUp(40);
    const queue = createMemoryRotationQueue();
    const first = await enqueueDekRotation(h, queue, { segment: 's1', hook, batchSize: 10 });
    await runRotationWorker({ hierarchy: h, queue, hook, untilIdle: true, pollMs: 5 });
    const second = await h.rotateDek({ segment: 's1', hook });
    const before = new Map(rows);
    expect(await h.dekRotationSteps.reencryptBatch(first.batches[0]!, hook)).toEqual({ current: false, scanned: 0, rewritten: 0 });
    expect(rows).toEqual(before);
    expect(new Set([...rows.values()].map(envelopeDekId))).toEqual(new Set([second.dekId]));
  });

  it('issue 15 §2: a batch overtaken mid-way by a finish and a newer rotation never moves a row off the newer DEK', async () => {
    const { h, rows, hook } = await setUp(40);
    const queue = createMemoryRotationQueue();
    const plan = await enqueueDekRotation(h, queue, { segment: 's1', hook, batchSize: 10 });
    let newer = '';
    const slow: ReencryptionHook = {
      ...hook,
      async scan(args) {
        // While this worker stalls, another finishes the rotation and a newer one moves every row on.
        if (newer === '') {
          await h.rotateDek({ segment: 's1', hook });
          newer = (await h.rotateDek({ segment: 's1', hook })).dekId;
        }
        return hook.scan(args);
      },
    };
    const result = await h.dekRotationSteps.reencryptBatch(plan.batches[0]!, slow);
    expect(result).toMatchObject({ current: true, rewritten: 0 });
    expect(new Set([...rows.values()].map(envelopeDekId))).toEqual(new Set([newer]));
  });

  it('issue 15 §2: a concurrent application write wins over the batch (compare-and-swap); the row keeps the application value on the new DEK', async () => {
    const { h, rows, hook } = await setUp(30);
    const queue = createMemoryRotationQueue();
    const raced: ReencryptionHook = {
      ...hook,
      async write(updates) {
        const [sealed] = await h.encryptValues([{ value: 'written-meanwhile', context: ctx('r0000') }]);
        rows.set('r0000', sealed!);
        return hook.write(updates);
      },
    };
    const plan = await enqueueDekRotation(h, queue, { segment: 's1', hook, batchSize: 10 });
    await runRotationWorker({ hierarchy: h, queue, hook: raced, untilIdle: true, pollMs: 5 });
    const [value] = await h.decryptValues([{ ciphertext: rows.get('r0000'), context: ctx('r0000') }]);
    expect(value).toBe('written-meanwhile');
    expect(new Set([...rows.values()].map(envelopeDekId))).toEqual(new Set([plan.dekId]));
  });
});

describe('the in-process rotation queue', () => {
  it('issue 15 §2: a batch that keeps failing is given up after retryLimit attempts; the finish then runs and its verification re-encrypts the rows', async () => {
    const { h, rows, hook } = await setUp(30);
    const queue = createMemoryRotationQueue({ retryLimit: 2 });
    let refusals = 0;
    const flaky: ReencryptionHook = {
      ...hook,
      async scan(args) {
        // The first batch's range always fails (a poisoned row, a driver bug): only the finish's scan from the start passes.
        if (args.cursor === null && args.limit === 10 && refusals < 3) {
          refusals++;
          throw new Error('scan failed');
        }
        return hook.scan(args);
      },
    };
    const plan = await enqueueDekRotation(h, queue, { segment: 's1', hook, batchSize: 10 });
    const summary = await runRotationWorker({ hierarchy: h, queue, hook: flaky, untilIdle: true, pollMs: 5 });
    expect(refusals).toBe(3);
    expect(summary).toMatchObject({ finished: 1, failures: 3 });
    expect(new Set([...rows.values()].map(envelopeDekId))).toEqual(new Set([plan.dekId]));
  });
});
