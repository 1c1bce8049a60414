import { afterEach, describe, expect, it } from 'vitest';
import { Brackets, type EntitySubscriberInterface, type InsertEvent } from 'typeorm';
import { Clinic, Patient } from './support/entities.js';
import { codeOf } from './support/helpers.js';
import { KINDS, openStack, type Stack } from './support/stack.js';

describe.each(KINDS)('issue 12 (TypeORM) on %s', (kind) => {
  let s: Stack;
  const repo = () => s.dataSource.getRepository(Patient);
  const indexOf = async (id: string) => (await s.raw.all('SELECT "emailIndex" FROM patient WHERE id = ?', [id]))[0]!.emailIndex;
  afterEach(async () => {
    await s.close();
  });

  it('issue 12: a user-supplied blind index is refused on every write path, nothing written', async () => {
    s = await openStack(kind);
    const a = await repo().save({ tenantId: 't1', ssn: 'CANARY-a', email: 'a@example.test' });
    const b = await repo().save({ tenantId: 't1', ssn: 'CANARY-b', email: 'b@example.test' });
    const aIndex = await indexOf(a.id);
    await s.raw.run('UPDATE patient SET "emailIndex" = NULL WHERE id = ?', [a.id]);
    const before = await s.raw.dump();
    const planted = String(aIndex);
    const writes: Record<string, () => Promise<unknown>> = {
      update: () => repo().update(b.id, { emailIndex: planted }),
      updateWithField: () => repo().update(b.id, { email: 'x@example.test', emailIndex: planted }),
      qbSet: () => s.dataSource.createQueryBuilder().update(Patient).set({ emailIndex: planted }).whereInIds(b.id).execute(),
      saveNew: () => repo().save({ tenantId: 't1', ssn: 'CANARY-c', emailIndex: planted }),
      saveNewWithField: () => repo().save({ tenantId: 't1', ssn: 'CANARY-c', email: 'c@example.test', emailIndex: planted }),
      saveLoaded: async () => {
        const loaded = await repo().findOneByOrFail({ id: b.id });
        loaded.emailIndex = planted;
        return repo().save(loaded);
      },
      insert: () => repo().insert({ tenantId: 't1', ssn: 'CANARY-c', emailIndex: planted }),
      qbInsert: () => s.dataSource.createQueryBuilder().insert().into(Patient).values({ tenantId: 't1', ssn: 'CANARY-c', emailIndex: planted }).execute(),
      upsert: () => repo().upsert({ id: b.id, tenantId: 't1', ssn: 'CANARY-c', emailIndex: planted }, ['id']),
      listenersOff: () => s.dataSource.createQueryBuilder().update(Patient).set({ emailIndex: planted }).callListeners(false).whereInIds(b.id).execute(),
    };
    for (const [name, write] of Object.entries(writes)) expect(await codeOf(write()), name).toBe('QUERY_UNSUPPORTED');
    expect(await s.raw.dump()).toBe(before);
    expect(await repo().findOneBy({ email: 'a@example.test' })).toBeNull();
    const loaded = await repo().findOneByOrFail({ id: b.id });
    loaded.note = 'edited';
    await repo().save(loaded);
    loaded.email = 'b2@example.test';
    await repo().save(loaded);
    expect((await repo().findOneByOrFail({ email: 'b2@example.test' })).id).toBe(b.id);
  });

  it('issue 12: insert().into(Entity, columns without the id) gives a readable, findable row', async () => {
    s = await openStack(kind);
    await s.dataSource.createQueryBuilder().insert().into(Patient, ['tenantId', 'ssn', 'email']).values({ tenantId: 't1', ssn: 'CANARY-c', email: 'c@example.test' }).execute();
    const [row] = await repo().find();
    expect(row!.ssn).toBe('CANARY-c');
    expect((await repo().findOneByOrFail({ email: 'c@example.test' })).ssn).toBe('CANARY-c');
    expect((await s.raw.dump()).toLowerCase()).not.toContain('canary');
  });

  it('issue 12: QueryBuilder string conditions naming an encrypted column are refused', async () => {
    s = await openStack(kind);
    await repo().save({ tenantId: 't1', ssn: 'CANARY-a', email: 'a@example.test' });
    const qb = () => repo().createQueryBuilder('p');
    const queries: Record<string, () => Promise<unknown>> = {
      equal: () => qb().where('p.email = :e', { e: 'a@example.test' }).getMany(),
      like: () => qb().where("p.ssn LIKE 'ks1.%'").getMany(),
      quoted: () => qb().where('"p"."email" = :e', { e: 'a@example.test' }).getMany(),
      unqualified: () => qb().where('email IS NOT NULL AND ssn <> :s', { s: 'x' }).getMany(),
      andWhere: () => qb().where('p.tenantId = :t', { t: 't1' }).andWhere('p.ssn = :s', { s: 'CANARY-a' }).getCount(),
      orWhere: () => qb().where('p.tenantId = :t', { t: 't1' }).orWhere('p.email LIKE :e', { e: '%' }).getMany(),
      brackets: () =>
        qb()
          .where(new Brackets((inner) => inner.where('p.email = :e', { e: 'a@example.test' })))
          .getMany(),
      joined: () => s.dataSource.getRepository(Clinic).createQueryBuilder('c').leftJoinAndSelect('c.patients', 'p').where('p.ssn = :s', { s: 'CANARY-a' }).getMany(),
      raw: () => qb().select('p.id').where('p.ssn IS NOT NULL AND p.ssn > :s', { s: 'a' }).getRawMany(),
      update: () => s.dataSource.createQueryBuilder().update(Patient).set({ note: 'x' }).where('email = :e', { e: 'a@example.test' }).execute(),
      delete: () => s.dataSource.createQueryBuilder().delete().from(Patient).where('ssn = :s', { s: 'CANARY-a' }).execute(),
    };
    for (const [name, query] of Object.entries(queries)) expect(await codeOf(Promise.resolve().then(query)), name).toBe('QUERY_UNSUPPORTED');
    expect(await qb().where('p.tenantId = :t AND p.emailIndex IS NOT NULL', { t: 't1' }).getCount()).toBe(1);
    expect(await qb().where('p.note IS NULL').andWhere({ email: 'a@example.test' }).getCount()).toBe(1);
    expect((await s.raw.all('SELECT id FROM patient')).length).toBe(1);
  });

  it('issue 12: an async listener that sets plaintext after Keystrata encrypted is refused with a message saying so', async () => {
    s = await openStack(kind);
    class Late implements EntitySubscriberInterface<Patient> {
      listenTo() {
        return Patient;
      }
      async beforeInsert(event: InsertEvent<Patient>) {
        for (let i = 0; i < 400 && !String(event.entity.ssn).startsWith('ks1.'); i++) await new Promise((resolve) => setTimeout(resolve, 5));
        event.entity.ssn = 'CANARY-late';
      }
    }
    s.dataSource.subscribers.push(new Late());
    const error = await repo()
      .save({ tenantId: 't1', ssn: 'CANARY-a', email: 'a@example.test' })
      .then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
    expect(error?.code).toBe('PLAINTEXT_REJECTED');
    expect(error?.message).toMatch(/after Keystrata encrypted/);
    expect(error?.message).not.toMatch(/listeners are off/);
    expect((await s.raw.dump()).toLowerCase()).not.toContain('canary');
  });

  it("issue 12 / issue 11 §2: a value moved into another tenant's row fails when only the encrypted field is selected", async () => {
    s = await openStack(kind, { bindRecordId: false });
    const a = await repo().save({ tenantId: 'tenant-a', ssn: 'CANARY-a', email: 'a@example.test' });
    const b = await repo().save({ tenantId: 'tenant-b', ssn: 'CANARY-b', email: 'b@example.test' });
    const [moved] = await s.raw.all('SELECT ssn FROM patient WHERE id = ?', [a.id]);
    await s.raw.run('UPDATE patient SET ssn = ? WHERE id = ?', [moved!.ssn, b.id]);
    expect(await codeOf(repo().find({ select: { ssn: true }, where: { id: b.id } }))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(repo().createQueryBuilder('p').select(['p.ssn']).getMany())).toBe('CIPHERTEXT_TAMPERED');
    const clinic = await s.dataSource.getRepository(Clinic).save({ tenantId: 'tenant-a', name: 'CANARY-clinic' });
    await repo().update(a.id, { clinic });
    const [joined] = await repo().find({ select: { id: true, clinic: { name: true } }, relations: { clinic: true }, where: { id: a.id } });
    expect(joined!.clinic).toEqual({ name: 'CANARY-clinic' }); // the clinic's id and tenant were fetched for the check, then removed
    const [ok] = await repo().find({ select: { ssn: true }, where: { id: a.id } });
    expect(ok!.ssn).toBe('CANARY-a');
    expect(ok!.tenantId).toBeUndefined(); // fetched for the check, not returned
  });

  it('issue 12 / issue 11 §2: with a function policy, a read selecting only the encrypted field gives the function the whole record', async () => {
    s = await openStack(kind, { segment: ({ record }) => `region:${String(record.tenantId)}`, bindRecordId: false });
    const a = await repo().save({ tenantId: 'eu', ssn: 'CANARY-a', email: 'a@example.test' });
    const b = await repo().save({ tenantId: 'us', ssn: 'CANARY-b', email: 'b@example.test' });
    const [ok] = await repo().find({ select: { ssn: true }, where: { id: a.id } });
    expect([ok!.ssn, ok!.tenantId, ok!.note]).toEqual(['CANARY-a', undefined, undefined]);
    const [moved] = await s.raw.all('SELECT ssn FROM patient WHERE id = ?', [a.id]);
    await s.raw.run('UPDATE patient SET ssn = ? WHERE id = ?', [moved!.ssn, b.id]);
    expect(await codeOf(repo().find({ select: { ssn: true }, where: { id: b.id } }))).toBe('CIPHERTEXT_TAMPERED');
  });
});
