import { KeyHierarchy } from '@keystrata/core';
import { MemoryKeyStore, SoftwareRootKey } from '@keystrata/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { KeystrataRuntime } from '../extension/runtime.js';
import type { FieldMap } from '../field-map/types.js';
import { newWrites } from './nodes.js';
import { walkCreate } from './walk.js';

const fieldMap: FieldMap = {
  version: 1,
  models: {
    Patient: {
      encrypted: [{ field: 'ssn' }, { field: 'email', index: 'emailIndex' }],
      id: { field: 'id', type: 'String', strategy: 'cuid' },
      scalars: { id: 'String', tenantId: 'String', ssn: 'String', email: 'String', emailIndex: 'String' },
      relations: { visits: { model: 'Visit', isList: true, fields: [] } },
    },
    Visit: {
      encrypted: [{ field: 'note' }],
      id: { field: 'id', type: 'String', strategy: 'uuid4' },
      scalars: { id: 'String', tenantId: 'String', patientId: 'String', note: 'String' },
      relations: { patient: { model: 'Patient', isList: false, fields: ['patientId'] } },
    },
  },
};

const hierarchy = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore() });
const rt = new KeystrataRuntime({ hierarchy, fieldMap, segment: { by: 'tenant', field: 'tenantId' } }, undefined);
afterAll(() => hierarchy.close());

describe('walkCreate', () => {
  it('issue 16 §adapters: a flat row is gathered synchronously (no promise, so createMany awaits nothing per row), with its id generated', () => {
    const writes = newWrites();
    const rows = Array.from({ length: 3 }, (_, i) => ({ tenantId: 't1', ssn: `ssn-${i}`, email: `p${i}@example.org` }));
    for (const row of rows) expect(walkCreate(rt, 'Patient', row, writes)).toBeUndefined();
    expect(writes.creates.map((c) => c.data)).toEqual(rows);
    for (const row of rows) expect((row as Record<string, unknown>).id).toMatch(/^c[0-9a-z]{24}$/);
  });

  it('issue 16 §adapters: a row with a nested create still returns a promise and gathers the child with its inherited key', async () => {
    const writes = newWrites();
    const row = { id: 'p1', tenantId: 't1', ssn: 'x', visits: { create: [{ tenantId: 't1', note: 'n' }] } };
    const walking = walkCreate(rt, 'Patient', row, writes);
    expect(walking).toBeInstanceOf(Promise);
    await walking;
    expect(writes.creates.map((c) => c.model)).toEqual(['Patient', 'Visit']);
    expect(writes.creates[1]!.context).toEqual({ patientId: 'p1' });
  });
});
