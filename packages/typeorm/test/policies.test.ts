import { afterEach, describe, expect, it } from 'vitest';
import { typeormReencryptionHook } from '../src/index.js';
import { Patient, Visit } from './support/entities.js';
import { codeOf, envelopeDekId, isRecordBound } from './support/helpers.js';
import { KINDS, openStack, type Stack } from './support/stack.js';

describe.each(KINDS)('segment policies and record-id binding on %s', (kind) => {
  let s: Stack;
  const repo = () => s.dataSource.getRepository(Patient);
  const ssnDeks = async () => (await s.raw.all('SELECT ssn FROM patient')).map((r) => envelopeDekId(String(r.ssn)));
  afterEach(async () => {
    await s.close();
  });

  it("{ by: 'record' } gives each record its own DEK, refuses unknown ids, and rotates one record", async () => {
    s = await openStack(kind, { segment: { by: 'record' } });
    const a = await repo().save({ tenantId: 't1', ssn: 'a', email: 'a@example.test' });
    await repo().save({ tenantId: 't1', ssn: 'b', email: 'b@example.test' });
    expect(new Set(await ssnDeks()).size).toBe(2);
    expect(await codeOf(s.dataSource.getRepository(Visit).save({ tenantId: 't1', diagnosis: 'x' }))).toBe('CONFIG_INVALID');
    expect(await s.raw.all('SELECT id FROM visit')).toEqual([]);
    const result = await s.keystrata.hierarchy.rotateDek({ segment: `Patient:${a.id}`, hook: typeormReencryptionHook(s.dataSource) });
    expect(result.reencrypted).toBe(1);
    const [stored] = await s.raw.all('SELECT ssn FROM patient WHERE id = ?', [a.id]);
    expect(envelopeDekId(String(stored!.ssn))).toBe(result.dekId);
    expect(await repo().findOneByOrFail({ id: a.id })).toMatchObject({ ssn: 'a', email: 'a@example.test' });
  });

  it("{ by: 'fixed' } uses one DEK for every record", async () => {
    s = await openStack(kind, { segment: { by: 'fixed', segment: 'everything' } });
    await repo().insert([
      { tenantId: 't1', ssn: 'a', email: 'a@example.test' },
      { tenantId: 't2', ssn: 'b', email: 'b@example.test' },
    ]);
    expect(new Set(await ssnDeks()).size).toBe(1);
    expect((await repo().find({ order: { tenantId: 'ASC' } })).map((p) => p.ssn)).toEqual(['a', 'b']);
  });

  it('a segment function decides per record; updates re-encrypt when its result changes; rotation scans in JS', async () => {
    s = await openStack(kind, { segment: ({ record }) => `region:${String(record.tenantId).slice(0, 2)}` });
    const a = await repo().save({ tenantId: 'eu-1', ssn: 'a', email: 'a@example.test' });
    await repo().save({ tenantId: 'us-1', ssn: 'b', email: 'b@example.test' });
    await repo().update(a.id, { tenantId: 'us-2' });
    expect(new Set(await ssnDeks()).size).toBe(1);
    const hook = typeormReencryptionHook(s.dataSource, [Patient]);
    expect(hook.count).toBeUndefined();
    expect((await s.keystrata.hierarchy.rotateDek({ segment: 'region:us', hook, batchSize: 1 })).reencrypted).toBe(2);
    expect((await repo().find()).map((p) => p.ssn).sort()).toEqual(['a', 'b']);
  });

  it('bindRecordId: false and generateUuids: false bind values to model, field and segment only', async () => {
    for (const options of [{ bindRecordId: false }, { generateUuids: false }]) {
      s = await openStack(kind, options);
      const a = await repo().save({ tenantId: 't1', ssn: 'a', email: 'a@example.test' });
      const [row] = await s.raw.all('SELECT ssn FROM patient');
      expect(isRecordBound(row!.ssn)).toBe(false);
      expect(await repo().findOneByOrFail({ id: a.id })).toMatchObject({ ssn: 'a' });
      await s.close();
    }
    s = await openStack(kind);
  });
});
