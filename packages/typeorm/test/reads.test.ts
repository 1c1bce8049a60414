import { Between, Equal, ILike, In, IsNull, LessThan, Like, MoreThan, Not, Raw } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Clinic, Patient, Visit } from './support/entities.js';
import { codeOf } from './support/helpers.js';
import { KINDS, openStack, type Stack } from './support/stack.js';

describe.each(KINDS)('reads and lookups on %s', (kind) => {
  let s: Stack;
  let ada: Patient;
  let bob: Patient;
  const repo = () => s.dataSource.getRepository(Patient);
  beforeAll(async () => {
    s = await openStack(kind);
    const clinic = await s.dataSource.getRepository(Clinic).save({ tenantId: 't1', name: 'North clinic' });
    ada = await repo().save({ tenantId: 't1', ssn: '111-11-1111', email: 'ada@example.test', clinic, visits: [{ tenantId: 't1', diagnosis: 'flu' } as Visit] });
    bob = await repo().save({ tenantId: 't2', ssn: '222-22-2222', email: 'bob@example.test', visits: [{ tenantId: 't2', diagnosis: 'cold' } as Visit] });
  });
  afterAll(async () => {
    await s.close();
  });

  it('find*, findOne*, count and exists return plaintext and match through the blind index', async () => {
    expect(await repo().findOneBy({ email: 'ada@example.test' })).toMatchObject({ id: ada.id, ssn: '111-11-1111' });
    expect(await repo().findOne({ where: { email: Equal('bob@example.test') } })).toMatchObject({ id: bob.id });
    expect((await repo().find({ where: { email: In(['ada@example.test', 'bob@example.test']) }, order: { tenantId: 'ASC' } })).map((p) => p.ssn)).toEqual(['111-11-1111', '222-22-2222']);
    expect(await repo().findAndCount({ where: [{ email: 'ada@example.test' }, { email: 'nobody@example.test' }] })).toMatchObject([[{ id: ada.id }], 1]);
    expect(await repo().countBy({ email: 'bob@example.test' })).toBe(1);
    expect(await repo().existsBy({ email: 'nobody@example.test' })).toBe(false);
    expect(await repo().findBy({ email: IsNull() })).toEqual([]);
    expect(await repo().findBy({ email: Not(IsNull()), tenantId: 't2' })).toMatchObject([{ id: bob.id }]);
  });

  it('decrypts relations loaded with relations (join and query strategies) and QueryBuilder joins', async () => {
    const joined = await repo().findOneOrFail({ where: { id: ada.id }, relations: { clinic: true, visits: true } });
    expect(joined).toMatchObject({ ssn: '111-11-1111', clinic: { name: 'North clinic' }, visits: [{ diagnosis: 'flu' }] });
    const queried = await repo().find({ relations: { visits: true }, relationLoadStrategy: 'query', order: { tenantId: 'ASC' } });
    expect(queried.map((p) => p.visits![0]!.diagnosis)).toEqual(['flu', 'cold']);
    const qb = await s.dataSource
      .getRepository(Visit)
      .createQueryBuilder('v')
      .leftJoinAndSelect('v.patient', 'p')
      .where({ patient: { email: 'bob@example.test' } })
      .getMany();
    expect(qb).toMatchObject([{ diagnosis: 'cold', patient: { ssn: '222-22-2222' } }]);
    expect(await s.dataSource.getRepository(Visit).find({ where: { patient: { email: 'ada@example.test' } } })).toMatchObject([{ diagnosis: 'flu' }]);
  });

  it('partial selects decrypt what was selected', async () => {
    expect(await repo().find({ select: { id: true, ssn: true }, where: { id: ada.id } })).toEqual([expect.objectContaining({ id: ada.id, ssn: '111-11-1111' })]);
  });

  it('QueryBuilder object where and an explicit index parameter use the blind index', async () => {
    expect(await repo().createQueryBuilder('p').where({ email: 'ada@example.test' }).getMany()).toMatchObject([{ id: ada.id }]);
    const index = await s.keystrata.indexFor(Patient, 'email', 'bob@example.test');
    expect(await repo().createQueryBuilder('p').where('p.emailIndex = :index', { index }).getOne()).toMatchObject({ id: bob.id });
    expect(await codeOf(s.keystrata.indexFor(Patient, 'ssn', 'x'))).toBe('QUERY_UNSUPPORTED');
  });

  it('refuses filters, ordering and aggregates that cannot run on ciphertext', async () => {
    const refused: Record<string, () => Promise<unknown>> = {
      like: async () => repo().findBy({ email: Like('%ada%') }),
      ilike: async () => repo().findBy({ ssn: ILike('111%') }),
      range: async () => repo().findBy({ email: MoreThan('a') }),
      lessThan: async () => repo().find({ where: { ssn: LessThan('5') } }),
      between: async () => repo().findBy({ ssn: Between('1', '3') }),
      raw: async () => repo().findBy({ email: Raw((a) => `${a} IS NOT NULL`) }),
      notEqual: async () => repo().findBy({ email: Not('ada@example.test') }),
      equalityWithoutIndex: async () => repo().findBy({ ssn: '111-11-1111' }),
      nestedLike: async () => s.dataSource.getRepository(Visit).findBy({ patient: { email: Like('%') } }),
      order: async () => repo().find({ order: { email: 'ASC' } }),
      nestedOrder: async () => s.dataSource.getRepository(Visit).find({ relations: { patient: true }, order: { patient: { ssn: 'DESC' } } }),
      qbOrderBy: async () => repo().createQueryBuilder('p').orderBy('p.ssn').getMany(),
      qbOrderByObject: async () => repo().createQueryBuilder('p').orderBy({ 'p.email': 'DESC' }).getMany(),
      qbAddOrderBy: async () => repo().createQueryBuilder('p').orderBy('p.tenantId').addOrderBy('p.email').getMany(),
      qbWhereLike: async () =>
        repo()
          .createQueryBuilder('p')
          .where({ ssn: Like('1%') })
          .getMany(),
      updateCriteria: async () => repo().update({ ssn: MoreThan('1') }, { note: 'x' }),
      deleteCriteria: async () => repo().delete({ email: Like('%') }),
      increment: async () => repo().increment({ id: ada.id }, 'ssn' as never, 1),
      minimum: async () => repo().minimum('ssn' as never),
      sum: async () => repo().sum('email' as never),
    };
    for (const [name, query] of Object.entries(refused)) expect(await codeOf(query()), name).toBe('QUERY_UNSUPPORTED');
    expect(await repo().count()).toBe(2);
  });

  it('delete() and update() criteria on an encrypted field go through the blind index', async () => {
    const extra = await repo().save({ tenantId: 't1', ssn: '333', email: 'gone@example.test' });
    expect((await repo().update({ email: 'gone@example.test' }, { note: 'bye' })).affected).toBe(1);
    expect((await repo().delete({ email: 'gone@example.test' })).affected).toBe(1);
    expect(await repo().findOneBy({ id: extra.id })).toBeNull();
  });

  it('raw results hold ciphertext; decryptRaw decrypts query() and getRawMany() rows', async () => {
    const select = () => s.dataSource.query(`SELECT * FROM patient WHERE id = ${kind === 'postgres' ? '$1' : '?'}`, [ada.id]);
    const rows = await select();
    expect(rows[0].ssn).toMatch(/^ks1\./);
    expect(await s.keystrata.decryptRaw(Patient, rows)).toMatchObject([{ ssn: '111-11-1111', email: 'ada@example.test' }]);
    const raw = await repo().createQueryBuilder('p').where({ id: bob.id }).getRawMany();
    expect(raw[0].p_ssn).toMatch(/^ks1\./);
    expect(await s.keystrata.decryptRaw(Patient, raw, { alias: 'p' })).toMatchObject([{ p_ssn: '222-22-2222', p_email: 'bob@example.test' }]);
    const moved = [{ ...(await select())[0], id: bob.id }];
    expect(await codeOf(s.keystrata.decryptRaw(Patient, moved))).toBe('CIPHERTEXT_TAMPERED');
  });
});
