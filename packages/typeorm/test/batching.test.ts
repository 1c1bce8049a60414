import { KeyHierarchy, type OperationEvent } from '@keystrata/core';
import { envelopeDekId } from '@keystrata/core/adapter';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { installKeystrata, keyStoreFor } from '../src/index.js';
import { Clinic, ENTITIES, Patient, type Visit } from './support/entities.js';
import { openRawDb } from './support/raw-db.js';
import { freshDatabase, KINDS, openRootKey, openStack, type Stack } from './support/stack.js';

describe.each(KINDS)('one hierarchy call per result set and per write batch on %s', (kind) => {
  let s: Stack;
  const events: OperationEvent[] = [];
  /** A stack whose hierarchy reports its batch operations into `events` (emptied once installed). */
  const opened = async () => {
    const stack = await openStack(kind, { hierarchyOptions: { monitor: (e) => events.push(e) } });
    events.length = 0;
    return stack;
  };
  const counts = (operation: OperationEvent['operation']) => events.filter((e) => e.operation === operation).map((e) => e.count);
  afterEach(async () => {
    await s.close();
    events.length = 0;
  });

  it('decrypts a find() with joined relations (three entities) in one decrypt call', async () => {
    s = await opened();
    const clinics = s.dataSource.getRepository(Clinic);
    for (const tenantId of ['t1', 't2']) {
      const visits = [
        { tenantId, diagnosis: `flu-${tenantId}` },
        { tenantId, diagnosis: `cold-${tenantId}` },
      ] as Visit[];
      await clinics.save({ tenantId, name: `clinic-${tenantId}`, patients: [{ tenantId, ssn: `ssn-${tenantId}`, email: `${tenantId}@example.test`, visits } as Patient] });
    }
    events.length = 0;
    const loaded = await s.dataSource.getRepository(Patient).find({ relations: { clinic: true, visits: true }, order: { tenantId: 'ASC' } });
    expect(loaded).toMatchObject([
      { ssn: 'ssn-t1', email: 't1@example.test', clinic: { name: 'clinic-t1' } },
      { ssn: 'ssn-t2', email: 't2@example.test', clinic: { name: 'clinic-t2' } },
    ]);
    expect(loaded.flatMap((p) => p.visits!.map((v) => v.diagnosis)).sort()).toEqual(['cold-t1', 'cold-t2', 'flu-t1', 'flu-t2']);
    expect(counts('decrypt')).toEqual([2 * 2 + 2 + 4]); // ssn and email, clinic names, diagnoses
  });

  it('encrypts an insert() batch with one encrypt and one blind-index call', async () => {
    s = await opened();
    const rows = Array.from({ length: 5 }, (_, i) => ({ tenantId: `t${i % 2}`, ssn: `ssn-${i}`, email: `p${i}@example.test` }));
    await s.dataSource.getRepository(Patient).insert(rows);
    expect([counts('encrypt'), counts('blind-index')]).toEqual([[10], [5]]);
    expect(rows[0]).toMatchObject({ ssn: 'ssn-0', email: 'p0@example.test' }); // the caller's plaintext is back
    expect((await s.raw.all('SELECT ssn FROM patient')).every((r) => String(r.ssn).startsWith('ks1.'))).toBe(true);
  });
});

describe.each(KINDS)('a keyring function on %s', (kind) => {
  it("encrypts under the record's keyring, blind-indexes under the hierarchy's, and reads both back", async () => {
    const db = await freshDatabase(kind);
    const dataSource = await new DataSource({ ...db, entities: ENTITIES, synchronize: true }).initialize();
    const hierarchy = await KeyHierarchy.create({ rootKey: await openRootKey(), keyStore: await keyStoreFor(dataSource) });
    for (const keyring of [undefined, 'clinic-t1', 'clinic-t2']) await hierarchy.provision(keyring);
    const keystrata = await installKeystrata(dataSource, { hierarchy, segment: { by: 'tenant', field: 'tenantId' }, keyring: ({ record }) => `clinic-${String(record.tenantId)}` });
    const raw = await openRawDb(db);
    try {
      const repo = dataSource.getRepository(Patient);
      await repo.insert({ tenantId: 't1', ssn: 'ssn-1', email: 'one@example.test' });
      await repo.save({ tenantId: 't2', ssn: 'ssn-2', email: 'two@example.test' });
      const deks = await raw.all('SELECT id, keyring FROM keystrata_dek');
      for (const row of await raw.all('SELECT "tenantId", ssn, email, "emailIndex" FROM patient')) {
        for (const field of ['ssn', 'email']) expect(deks.find((d) => d.id === envelopeDekId(row[field]))?.keyring).toBe(`clinic-${String(row.tenantId)}`);
        const email = row.tenantId === 't1' ? 'one@example.test' : 'two@example.test';
        expect(row.emailIndex).toBe(await hierarchy.blindIndex(email, { model: 'Patient', field: 'email' }));
      }
      expect(await repo.findOneByOrFail({ email: 'two@example.test' })).toMatchObject({ tenantId: 't2', ssn: 'ssn-2' });
      expect((await repo.find({ order: { tenantId: 'ASC' } })).map((p) => p.ssn)).toEqual(['ssn-1', 'ssn-2']);
    } finally {
      await raw.close();
      await keystrata.close();
      await hierarchy.close();
      await dataSource.destroy();
    }
  });
});
