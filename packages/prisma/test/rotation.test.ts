import { envelopeDekId } from '@keystrata/core/adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prismaReencryptionHook } from '../src/index.js';
import { codeOf } from './support/canary.js';
import { seedUser } from './support/fixtures.js';
import { STACKS, type Stack } from './support/stacks.js';

describe.each(STACKS)('DEK rotation through prismaReencryptionHook on %s', (_name, makeStack) => {
  let s: Stack;
  beforeEach(async () => {
    s = await makeStack();
  });
  afterEach(async () => {
    await s.close();
  });

  const dekIds = async (table: string, column: string, tenant: string) =>
    new Set((await s.raw.all(`SELECT "${column}" AS v FROM "${table}" WHERE "tenantId" = ?`, [tenant])).map((r) => envelopeDekId(String(r.v))));

  it('re-encrypts a tenant segment across every model in batches; other tenants stay as they were', async () => {
    for (const n of [1, 2, 3]) await seedUser(s.db, `rot-${n}`, 'tenant-a');
    await seedUser(s.db, 'rot-b', 'tenant-b');
    await s.db.patient.createMany({ data: [1, 2, 3, 4, 5].map((n) => ({ tenantId: 'tenant-a', ssn: `CANARY-${n}`, email: `canary-${n}@example.test` })) });
    const [before] = [...(await dekIds('Patient', 'ssn', 'tenant-a'))];
    const untouched = await s.raw.all('SELECT "name" FROM "User" WHERE "tenantId" = ?', ['tenant-b']);
    const hook = prismaReencryptionHook(s.db);
    expect(await hook.count!({ keyring: 'default', segment: 'tenantId:tenant-a' })).toBe(3 * 4 + 5);
    const result = await s.hierarchy.rotateDek({ segment: 'tenantId:tenant-a', hook, batchSize: 2 });
    expect(result.reencrypted).toBe(17);
    for (const [table, column] of [
      ['Patient', 'ssn'],
      ['Patient', 'email'],
      ['User', 'email'],
      ['User', 'name'],
      ['Post', 'title'],
      ['Comment', 'body'],
      ['profiles', 'bio_cipher'],
    ] as const) {
      expect([...(await dekIds(table, column, 'tenant-a'))], `${table}.${column}`).toEqual([result.dekId]);
    }
    expect(result.dekId).not.toBe(before);
    expect(await s.raw.all('SELECT "name" FROM "User" WHERE "tenantId" = ?', ['tenant-b'])).toEqual(untouched);
    expect((await s.db.patient.findMany({ where: { email: 'canary-4@example.test' } }))[0]!.ssn).toBe('CANARY-4');
    expect((await s.db.user.findMany({ include: { posts: { include: { comments: true } }, profile: true } })).map((u) => u.profile!.bio).sort()).toEqual([
      'canary bio rot-1',
      'canary bio rot-2',
      'canary bio rot-3',
      'canary bio rot-b',
    ]);
  });

  it('writes a new ciphertext only where the stored one is still the previous one', async () => {
    const p = await s.db.patient.create({ data: { tenantId: 'tenant-a', ssn: 'CANARY-1', email: 'canary@example.test' } });
    const hook = prismaReencryptionHook(s.db, { models: ['Patient'] });
    const page = await hook.scan({ keyring: 'default', segment: 'tenantId:tenant-a', cursor: null, limit: 10 });
    expect(page.records.map((r) => r.fields.map((f) => f.field))).toEqual([['ssn', 'email']]);
    const [stored] = await s.raw.all('SELECT "ssn" FROM "Patient"');
    expect(await hook.write([{ id: page.records[0]!.id, fields: [{ field: 'ssn', previous: 'ks1.stale', next: 'ks1.next' }] }])).toBe(0);
    expect((await s.raw.all('SELECT "ssn" FROM "Patient"'))[0]!.ssn).toBe(stored!.ssn);
    expect((await s.db.patient.findUniqueOrThrow({ where: { id: p.id } })).ssn).toBe('CANARY-1');
  });

  it('rotates a per-record segment, and refuses a segment function without segmentWhere', async () => {
    const perRecord = s.extend({ segment: { by: 'record' } });
    const [a, b] = [
      await perRecord.patient.create({ data: { tenantId: 't', ssn: 'CANARY-A', email: 'a@example.test' } }),
      await perRecord.patient.create({ data: { tenantId: 't', ssn: 'CANARY-B', email: 'b@example.test' } }),
    ];
    const result = await s.hierarchy.rotateDek({ segment: `Patient:${a.id}`, hook: prismaReencryptionHook(perRecord) });
    expect(result.reencrypted).toBe(1);
    const rows = await s.raw.all('SELECT "id", "ssn" FROM "Patient" ORDER BY "id"');
    expect(rows.filter((r) => envelopeDekId(String(r.ssn)) === result.dekId).map((r) => r.id)).toEqual([a.id]);
    expect((await perRecord.patient.findMany()).map((p) => p.ssn).sort()).toEqual(['CANARY-A', 'CANARY-B']);
    expect(b.id).not.toBe(a.id);
    const byFunction = s.extend({ segment: () => 'all' });
    expect(await codeOf(prismaReencryptionHook(byFunction).scan({ keyring: 'default', segment: 'all', cursor: null, limit: 5 }))).toBe('CONFIG_INVALID');
    const explicit = prismaReencryptionHook(byFunction, { models: ['Patient'], segmentWhere: () => ({}) });
    expect((await explicit.scan({ keyring: 'default', segment: 'all', cursor: null, limit: 5 })).records.length).toBe(2);
  });
});
