import { afterEach, describe, expect, it } from 'vitest';
import { promisesTracked } from '@keystrata/testing';
import { DataSource } from 'typeorm';
import { installKeystrata } from '../src/index.js';
import { BlindIndexToken } from '../src/query/index-token.js';
import { ENTITIES, Patient } from './support/entities.js';
import { codeOf } from './support/helpers.js';
import { freshDatabase, openRootKey, openStack, type Stack } from './support/stack.js';

describe('issue 16 §W3 (TypeORM): lookups pay for nothing they do not use', () => {
  let s: Stack | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('issue 16 §W3: install, save() (also one refused), reads and lookups leave no promise tracking on in the process', async () => {
    expect(await promisesTracked()).toBe(false); // the probe's baseline in this test process
    s = await openStack('sqlite');
    const repo = s.dataSource.getRepository(Patient);
    const saved = await repo.save({ tenantId: 't1', ssn: 'CANARY-a', email: 'a@example.test' });
    expect(await codeOf(repo.save({ tenantId: 't1', ssn: 'CANARY-b', email: 'a@example.test' }))).not.toBe('none'); // same e-mail: the unique blind index refuses it
    expect((await repo.findOneByOrFail({ email: 'a@example.test' })).id).toBe(saved.id);
    await repo.remove(await repo.findOneByOrFail({ id: saved.id }));
    expect(await promisesTracked()).toBe(false);
  });

  it('issue 16 §W3: with a query-result cache, lookups of different values still get different cache keys (each finds its own row)', async () => {
    const dataSource = await new DataSource({ ...(await freshDatabase('sqlite')), entities: ENTITIES, synchronize: true, cache: true }).initialize();
    const rootKey = await openRootKey();
    const keystrata = await installKeystrata(dataSource, { rootKey, segment: { by: 'tenant', field: 'tenantId' } });
    try {
      const repo = dataSource.getRepository(Patient);
      const a = await repo.save({ tenantId: 't1', ssn: 'CANARY-a', email: 'a@example.test' });
      const b = await repo.save({ tenantId: 't1', ssn: 'CANARY-b', email: 'b@example.test' });
      for (let round = 0; round < 2; round++) {
        expect((await repo.findOne({ where: { email: 'a@example.test' }, cache: 60_000 }))?.id).toBe(a.id);
        expect((await repo.findOne({ where: { email: 'b@example.test' }, cache: 60_000 }))?.id).toBe(b.id);
      }
    } finally {
      await keystrata.close();
      await rootKey.close().catch(() => undefined);
      await dataSource.destroy();
    }
  });

  it('issue 16 §W3: without a query-result cache, a token serialises to a constant (no HMAC per lookup) that reveals nothing', () => {
    const uncached = new BlindIndexToken('Patient', 'email', 'secret@example.test', false);
    expect(JSON.stringify(uncached)).toBe(JSON.stringify(new BlindIndexToken('Patient', 'email', 'other@example.test', false)));
    expect(JSON.stringify(uncached)).not.toContain('secret');
    expect(JSON.stringify(new BlindIndexToken('Patient', 'email', 'secret@example.test', true))).not.toBe(JSON.stringify(uncached));
  });
});
