import { In } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Patient } from './support/entities.js';
import { envelopeDekId, isRecordBound } from './support/helpers.js';
import { KINDS, openStack, type Stack } from './support/stack.js';

describe.each(KINDS)('insert/upsert/update/QueryBuilder writes on %s', (kind) => {
  let s: Stack;
  const repo = () => s.dataSource.getRepository(Patient);
  const noCanary = async () => expect((await s.raw.dump()).toLowerCase()).not.toContain('canary');
  beforeEach(async () => {
    s = await openStack(kind);
  });
  afterEach(async () => {
    await s.close();
  });

  it('insert() encrypts every row, binds generated ids and restores the caller objects', async () => {
    const rows = [
      { tenantId: 't1', ssn: 'CANARY-i1', email: 'i1@example.test' },
      { tenantId: 't2', ssn: 'CANARY-i2', email: 'i2@example.test' },
    ];
    await repo().insert(rows);
    await noCanary();
    expect(rows.map((r) => r.ssn)).toEqual(['CANARY-i1', 'CANARY-i2']);
    const stored = await s.raw.all('SELECT id, ssn FROM patient');
    expect(stored.every((r) => isRecordBound(r.ssn))).toBe(true);
    expect((await repo().find({ order: { tenantId: 'ASC' } })).map((p) => p.ssn)).toEqual(['CANARY-i1', 'CANARY-i2']);
  });

  it('QueryBuilder insert().values() encrypts and restores', async () => {
    const values = { tenantId: 't1', ssn: 'CANARY-qb', email: 'qb@example.test' };
    await s.dataSource.createQueryBuilder().insert().into(Patient).values(values).execute();
    await noCanary();
    expect(values.ssn).toBe('CANARY-qb');
    expect((await repo().findOneByOrFail({ email: 'qb@example.test' })).ssn).toBe('CANARY-qb');
  });

  it('upsert() on the blind index overwrites ciphertext and index of the existing row', async () => {
    await repo().insert({ tenantId: 't1', ssn: 'CANARY-u1', email: 'up@example.test' });
    await repo().upsert({ tenantId: 't1', ssn: 'CANARY-u2', email: 'up@example.test' }, ['emailIndex']);
    await noCanary();
    const [row] = await s.raw.all('SELECT ssn FROM patient');
    expect(isRecordBound(row!.ssn)).toBe(false);
    expect(await repo().find()).toMatchObject([{ ssn: 'CANARY-u2', email: 'up@example.test' }]);
  });

  it('upsert() on the primary key binds the record id', async () => {
    const { identifiers } = await repo().insert({ tenantId: 't1', ssn: 'CANARY-p1', email: 'pk@example.test' });
    const id = identifiers[0]!.id as string;
    await repo().upsert({ id, tenantId: 't1', ssn: 'CANARY-p2', email: 'pk2@example.test' }, ['id']);
    await noCanary();
    const [row] = await s.raw.all('SELECT ssn FROM patient');
    expect(isRecordBound(row!.ssn)).toBe(true);
    expect(await repo().findOneByOrFail({ email: 'pk2@example.test' })).toMatchObject({ id, ssn: 'CANARY-p2' });
    expect(await repo().findOneBy({ email: 'pk@example.test' })).toBeNull();
  });

  it('update() by id and by criteria encrypts each matched row for its own id', async () => {
    const a = await repo().save({ tenantId: 't1', ssn: 'CANARY-a', email: 'a@example.test' });
    const b = await repo().save({ tenantId: 't1', ssn: 'CANARY-b', email: 'b@example.test' });
    await repo().update(a.id, { ssn: 'CANARY-a2' });
    expect((await repo().findOneByOrFail({ id: a.id })).ssn).toBe('CANARY-a2');
    const result = await repo().update({ tenantId: 't1' }, { ssn: 'CANARY-shared' });
    expect(result.affected).toBe(2);
    await noCanary();
    const rows = await s.raw.all('SELECT id, ssn FROM patient');
    expect(new Set(rows.map((r) => r.ssn)).size).toBe(2);
    expect(rows.every((r) => isRecordBound(r.ssn))).toBe(true);
    expect((await repo().findBy({ id: In([a.id, b.id]) })).map((p) => p.ssn)).toEqual(['CANARY-shared', 'CANARY-shared']);
  });

  it('QueryBuilder update().set() finds rows through the blind index and encrypts the new value', async () => {
    const a = await repo().save({ tenantId: 't1', ssn: 'CANARY-q1', email: 'q@example.test' });
    await repo().save({ tenantId: 't1', ssn: 'CANARY-q2', email: 'other@example.test' });
    const result = await s.dataSource.createQueryBuilder().update(Patient).set({ ssn: 'CANARY-q3', note: 'n' }).where({ email: 'q@example.test' }).execute();
    expect(result.affected).toBe(1);
    await noCanary();
    expect(await repo().findOneByOrFail({ id: a.id })).toMatchObject({ ssn: 'CANARY-q3', note: 'n' });
  });

  it('update() of the tenant alone moves the stored values to the new segment', async () => {
    const a = await repo().save({ tenantId: 't1', ssn: 'CANARY-m', email: 'm@example.test' });
    const b = await repo().save({ tenantId: 't2', ssn: 'CANARY-m2', email: 'm2@example.test' });
    await repo().update(a.id, { tenantId: 't2' });
    const rows = await s.raw.all('SELECT id, ssn FROM patient');
    expect(envelopeDekId(String(rows.find((r) => r.id === a.id)!.ssn))).toBe(envelopeDekId(String(rows.find((r) => r.id === b.id)!.ssn)));
    expect(await repo().findOneByOrFail({ id: a.id })).toMatchObject({ tenantId: 't2', ssn: 'CANARY-m' });
  });

  it('update() that matches nothing writes nothing; unrelated updates run unchanged', async () => {
    expect((await repo().update({ tenantId: 'nobody' }, { ssn: 'CANARY-x' })).affected).toBe(0);
    const a = await repo().save({ tenantId: 't1', ssn: 'CANARY-k', email: 'k@example.test' });
    await repo().update(a.id, { note: 'plain' });
    expect(await repo().findOneByOrFail({ id: a.id })).toMatchObject({ ssn: 'CANARY-k', note: 'plain' });
  });
});
