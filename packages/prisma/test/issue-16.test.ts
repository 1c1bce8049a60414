import { afterEach, describe, expect, it } from 'vitest';
import { promisesTracked } from '@keystrata/testing';
import { codeOf } from './support/canary.js';
import { STACKS, type Stack } from './support/stacks.js';

/** Prisma's query-extension callbacks a client runs for one operation (its internal list; Prisma 7.10). */
function queryLayers(client: unknown, model: string, operation: string): number {
  const extensions = (client as { _extensions?: { getAllQueryCallbacks?: (model: string, operation: string) => unknown[] } })._extensions;
  if (typeof extensions?.getAllQueryCallbacks !== 'function') throw new Error('This Prisma version keeps its extensions elsewhere: update queryLayers() for it.');
  return extensions.getAllQueryCallbacks(model, operation).length;
}

const stack = STACKS.find(([name]) => name === 'sqlite')![1];

describe('issue 16 §W3 (Prisma): a lookup pays for no layer it does not use', () => {
  let s: Stack | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('issue 16 §W3: withKeystrata adds one query-extension layer (the guard comes with a later $extends, innermost), and a later extension is still checked', async () => {
    s = await stack();
    expect(queryLayers(s.base, 'Patient', 'findFirst')).toBe(0);
    expect(queryLayers(s.db, 'Patient', 'findFirst')).toBe(1);
    const a = await s.db.patient.create({ data: { tenantId: 'a', ssn: 'CANARY-1', email: 'canary-1@example.test' } });
    expect((await s.db.patient.findFirstOrThrow({ where: { email: 'canary-1@example.test' } })).id).toBe(a.id);
    // A query extension applied later: it and the guard after it.
    const planting = s.db.$extends({ query: { patient: { create: ({ args, query }) => query({ ...args, data: { ...args.data, ssn: 'CANARY-PLANTED' } }) } } });
    const passing = s.db.$extends({ query: { $allModels: { $allOperations: ({ args, query }) => query(args) } } });
    expect(queryLayers(passing, 'Patient', 'findFirst')).toBe(3); // keystrata, the later extension, the guard
    expect(await codeOf(planting.patient.create({ data: { tenantId: 'a', ssn: 'CANARY-2', email: 'canary-2@example.test' } }))).toBe('CONFIG_INVALID');
    expect((await s.raw.all('SELECT "id" FROM "Patient"')).length).toBe(1);
  });

  it('issue 16 §W3: provisioning, writes, reads and lookups through withKeystrata leave no promise tracking on in the process', async () => {
    expect(await promisesTracked()).toBe(false); // the probe's baseline in this test process
    s = await stack(); // provisions the keyring (a lease job)
    await s.db.patient.createMany({ data: [{ tenantId: 'a', ssn: 'CANARY-1', email: 'canary-1@example.test' }] });
    const found = await s.db.patient.findFirstOrThrow({ where: { email: 'canary-1@example.test' } });
    await s.db.patient.update({ where: { id: found.id }, data: { ssn: 'CANARY-2' } });
    expect(await promisesTracked()).toBe(false);
  });
});
