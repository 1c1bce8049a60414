import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, expectNoPlaintext } from './support/canary.js';
import { seedUser } from './support/fixtures.js';
import { STACKS, type Stack } from './support/stacks.js';

describe.each(STACKS)('transactions and deletes on %s', (_name, makeStack) => {
  let s: Stack;
  beforeEach(async () => {
    s = await makeStack();
  });
  afterEach(async () => {
    await s.close();
  });

  it('batch $transaction([...]) encrypts and decrypts every operation', async () => {
    const [created, , count] = await s.db.$transaction([
      s.db.patient.create({ data: { tenantId: 'tenant-a', ssn: 'CANARY-T1', email: 'canary-t1@example.test' } }),
      s.db.patient.createMany({ data: [{ tenantId: 'tenant-b', ssn: 'CANARY-T2', email: 'canary-t2@example.test' }] }),
      s.db.patient.count(),
    ]);
    expect(created.ssn).toBe('CANARY-T1');
    expect(count).toBe(2);
    const [found, updated] = await s.db.$transaction([
      s.db.patient.findFirst({ where: { email: 'canary-t2@example.test' } }),
      s.db.patient.update({ where: { id: created.id }, data: { ssn: 'CANARY-T3' } }),
    ]);
    expect([found?.ssn, updated.ssn]).toEqual(['CANARY-T2', 'CANARY-T3']);
    expect(await codeOf(s.db.$transaction([s.db.patient.updateMany({ data: { ssn: 'CANARY-T4' } })]))).toBe('QUERY_UNSUPPORTED');
    await expectNoPlaintext(s.raw, 'Patient');
  });

  it('interactive $transaction runs lookups inside the transaction and rolls back on error', async () => {
    const result = await s.db.$transaction(async (tx) => {
      const p = await tx.patient.create({ data: { tenantId: 'tenant-a', ssn: 'CANARY-I1', email: 'canary-i1@example.test' } });
      const u = await tx.patient.update({ where: { id: p.id }, data: { ssn: 'CANARY-I2' } }); // looks up the uncommitted row
      expect(await tx.patient.updateMany({ data: { ssn: 'CANARY-I3' } })).toEqual({ count: 1 });
      return [u.ssn, (await tx.patient.findFirstOrThrow({ where: { email: 'canary-i1@example.test' } })).ssn];
    });
    expect(result).toEqual(['CANARY-I2', 'CANARY-I3']);
    const failed = s.db.$transaction(async (tx) => {
      await tx.patient.create({ data: { tenantId: 'tenant-a', ssn: 'CANARY-R', email: 'canary-r@example.test' } });
      throw new Error('rollback');
    });
    await expect(failed).rejects.toThrow('rollback');
    expect(await s.db.patient.count()).toBe(1);
    await expectNoPlaintext(s.raw, 'Patient');
  });

  it('a new tenant inside an interactive transaction that already wrote: PostgreSQL commits, SQLite fails closed unless warmed', async () => {
    const work = () =>
      s.db.$transaction(
        async (tx) => {
          await tx.patient.create({ data: { tenantId: 'tenant-a', ssn: 'CANARY-A', email: 'canary-a@example.test' } });
          await tx.patient.create({ data: { tenantId: 'tenant-new', ssn: 'CANARY-N', email: 'canary-n@example.test' } });
        },
        { timeout: 20_000 },
      );
    if (s.name === 'sqlite') {
      expect(await codeOf(work())).toBe('KEYSTORE_UNAVAILABLE');
      expect(await s.db.patient.count()).toBe(0);
      await s.hierarchy.encryptValue('', { model: 'Patient', field: 'ssn', segment: 'tenantId:tenant-new' });
    }
    await work();
    expect(await s.db.patient.count()).toBe(2);
    await expectNoPlaintext(s.raw, 'Patient');
  });

  it('delete returns the decrypted record; deleteMany filters through the blind index', async () => {
    const user = await seedUser(s.db, 'del');
    await s.db.patient.createMany({
      data: [
        { tenantId: 'tenant-a', ssn: 'CANARY-D1', email: 'canary-d1@example.test' },
        { tenantId: 'tenant-a', ssn: 'CANARY-D2', email: 'canary-d2@example.test' },
      ],
    });
    const deleted = await s.db.user.delete({ where: { id: user.id }, select: { name: true, profile: { select: { bio: true } } } });
    expect(deleted).toEqual({ name: 'Canary del', profile: { bio: 'canary bio del' } });
    expect(await s.db.patient.deleteMany({ where: { email: { in: ['canary-d1@example.test'] } } })).toEqual({ count: 1 });
    expect((await s.db.patient.findMany()).map((p) => p.ssn)).toEqual(['CANARY-D2']);
    expect(await s.db.post.count()).toBe(0);
  });

  it('leaves models without encrypted fields untouched and keeps the client types', async () => {
    const tag = await s.db.tag.create({ data: { label: 'ks1.not-an-envelope-owned-by-keystrata' } });
    expect(await s.db.tag.findUnique({ where: { id: tag.id } })).toEqual(tag);
    expect(s.db.$keystrata.fieldMap).toBe(s.fieldMap);
    const typed: string | undefined = (await s.db.user.findMany({ include: { posts: true } }))[0]?.posts[0]?.title;
    expect(typed).toBeUndefined();
  });
});
