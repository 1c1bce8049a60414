import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { typeormReencryptionHook } from '../src/index.js';
import { Memo, Patient, type Visit } from './support/entities.js';
import { codeOf, envelopeDekId } from './support/helpers.js';
import { KINDS, openStack, type Stack } from './support/stack.js';

describe.each(KINDS)('DEK rotation through the TypeORM re-encryption hook on %s', (kind) => {
  let s: Stack;
  const repo = () => s.dataSource.getRepository(Patient);
  const deksOf = async (table: string, column: string, tenant: string) =>
    new Set((await s.raw.all(`SELECT ${column} FROM ${table} WHERE "tenantId" = ?`, [tenant])).map((r) => envelopeDekId(String(r[column]))));
  beforeEach(async () => {
    s = await openStack(kind);
  });
  afterEach(async () => {
    await s.close();
  });

  it('re-encrypts every record of a segment, in batches, across entities, and leaves other segments alone', async () => {
    for (let i = 0; i < 23; i++) await repo().save({ tenantId: 't1', ssn: `ssn-${i}`, email: `p${i}@example.test`, visits: [{ tenantId: 't1', diagnosis: `d-${i}` } as Visit] });
    await repo().save({ tenantId: 't2', ssn: 'ssn-other', email: 'other@example.test' });
    const [oldDek] = await deksOf('patient', 'ssn', 't1');
    const otherBefore = await s.raw.all(`SELECT ssn FROM patient WHERE "tenantId" = 't2'`);
    const progress: Array<{ done: number; total?: number }> = [];
    const result = await s.keystrata.hierarchy.rotateDek({
      segment: 'tenantId:t1',
      hook: typeormReencryptionHook(s.dataSource),
      batchSize: 10,
      oldKeys: 'destroy',
      onProgress: (p) => progress.push(p),
    });
    expect(result).toMatchObject({ segment: 'tenantId:t1', version: 2, reencrypted: 46 });
    expect(progress.length).toBeGreaterThanOrEqual(5);
    expect(progress.at(-1)).toMatchObject({ done: 46, total: 46 });
    for (const [table, column] of [
      ['patient', 'ssn'],
      ['patient', 'email'],
      ['visit', 'diagnosis'],
    ] as const) {
      expect([...(await deksOf(table, column, 't1'))]).toEqual([result.dekId]);
    }
    expect(oldDek).not.toBe(result.dekId);
    expect(await s.raw.all(`SELECT ssn FROM patient WHERE "tenantId" = 't2'`)).toEqual(otherBefore);
    const all = await repo().find({ where: { tenantId: 't1' }, relations: { visits: true } });
    expect(all.map((p) => p.ssn).sort()).toEqual(Array.from({ length: 23 }, (_, i) => `ssn-${i}`).sort());
    expect(all.every((p) => p.visits![0]!.diagnosis === p.ssn.replace('ssn', 'd'))).toBe(true);
    expect(await repo().findOneByOrFail({ email: 'p7@example.test' })).toMatchObject({ ssn: 'ssn-7' });
  });

  it('never overwrites a value the application changed during the rotation (compare-and-swap)', async () => {
    const a = await repo().save({ tenantId: 't1', ssn: 'before', email: 'cas@example.test' });
    const hook = typeormReencryptionHook(s.dataSource, [Patient]);
    const raced = {
      ...hook,
      async write(updates: Parameters<typeof hook.write>[0]) {
        await repo().update(a.id, { ssn: 'written-meanwhile' });
        return hook.write(updates);
      },
    };
    await s.keystrata.hierarchy.rotateDek({ segment: 'tenantId:t1', hook: raced });
    expect(await repo().findOneByOrFail({ id: a.id })).toMatchObject({ ssn: 'written-meanwhile', email: 'cas@example.test' });
  });

  it('resumes an interrupted rotation where it stopped', async () => {
    for (let i = 0; i < 12; i++) await repo().save({ tenantId: 't1', ssn: `r-${i}`, email: `r${i}@example.test` });
    const hook = typeormReencryptionHook(s.dataSource, [Patient]);
    let writes = 0;
    const crashing = {
      ...hook,
      write: async (u: Parameters<typeof hook.write>[0]) => {
        if (++writes === 2) throw new Error('simulated crash');
        return hook.write(u);
      },
    };
    await expect(s.keystrata.hierarchy.rotateDek({ segment: 'tenantId:t1', hook: crashing, batchSize: 5 })).rejects.toThrow('simulated crash');
    const result = await s.keystrata.hierarchy.rotateDek({ segment: 'tenantId:t1', hook, batchSize: 5 });
    expect(result).toMatchObject({ resumed: true, reencrypted: 12 });
    expect([...(await deksOf('patient', 'ssn', 't1'))]).toEqual([result.dekId]);
    expect((await repo().find()).map((p) => p.ssn).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `r-${i}`).sort());
  });

  it('needs Keystrata installed and entities with encrypted columns', async () => {
    expect(await codeOf((async () => typeormReencryptionHook(s.dataSource, [Memo]))())).toBe('CONFIG_INVALID');
    s.keystrata.uninstall();
    expect(await codeOf((async () => typeormReencryptionHook(s.dataSource))())).toBe('CONFIG_INVALID');
  });
});
