import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Patient } from './support/entities.js';
import { codeOf } from './support/helpers.js';
import { openStack, type Stack } from './support/stack.js';

describe('SQLite: the key store shares the file, on its own connection', () => {
  let s: Stack;
  const repo = () => s.dataSource.getRepository(Patient);
  beforeEach(async () => {
    s = await openStack('sqlite');
  });
  afterEach(async () => {
    await s.close();
  });

  it('update() moving a record to a brand-new tenant creates the DEK before taking the write lock', async () => {
    const p = await repo().save({ tenantId: 't1', ssn: 'moved', email: 'm@example.test' });
    await repo().update(p.id, { tenantId: 'brand-new' });
    expect(await repo().findOneByOrFail({ id: p.id })).toMatchObject({ tenantId: 'brand-new', ssn: 'moved' });
  });

  it('a transaction that already wrote cannot create a DEK: it fails closed, unless the segment was prepared', async () => {
    const write = (tenant: string) =>
      s.dataSource.transaction(async (m) => {
        await m.save(Patient, { tenantId: 't1', ssn: 'first', email: `${tenant}-1@example.test` });
        await m.save(Patient, { tenantId: tenant, ssn: 'second', email: `${tenant}-2@example.test` });
      });
    expect(await codeOf(write('unprepared'))).toBe('KEYSTORE_UNAVAILABLE');
    expect(await s.raw.all('SELECT id FROM patient')).toEqual([]);
    await s.keystrata.prepareSegments(['tenantId:prepared']);
    await write('prepared');
    expect((await repo().findBy({ tenantId: 'prepared' })).map((p) => p.ssn)).toEqual(['second']);
  }, 20_000);
});
