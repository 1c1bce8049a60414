import { envelopeDekId } from '@keystrata/core/adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mongooseReencryptionHook } from '../src/index.js';
import { codeOf, expectSealedAtRest } from './support/checks.js';
import { openFixture, rawPatients, type Fixture } from './support/fixture.js';

const canary = (i: number, tenantId = 'acme') => ({ tenantId, ssn: `CANARY-${i}`, email: `canary-${i}@example.test`, name: `p${String(i).padStart(3, '0')}` });

describe('DEK rotation through mongooseReencryptionHook', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture();
  });
  afterEach(async () => {
    await f.teardown();
  });

  it('re-encrypts one tenant in batches; blind indexes and other tenants are untouched; old DEK destroyed', async () => {
    await f.Patient.insertMany(Array.from({ length: 25 }, (_, i) => canary(i)));
    await f.Patient.create(canary(99, 'globex'));
    const before = await rawPatients(f);
    const hook = mongooseReencryptionHook(f.Patient);
    expect(await hook.count!({ keyring: 'default', segment: 'tenantId:acme' })).toBe(25);
    const progress: number[] = [];
    const result = await f.hierarchy.rotateDek({ segment: 'tenantId:acme', hook, batchSize: 10, oldKeys: 'destroy', onProgress: (p) => progress.push(p.done) });
    expect(result).toMatchObject({ version: 2, reencrypted: 25, resumed: false });
    expect(progress).toEqual([10, 20, 25]);
    const after = await expectSealedAtRest(f, 26);
    for (const doc of after) {
      const old = before.find((b) => String(b._id) === String(doc._id))!;
      expect(doc.emailIndex).toBe(old.emailIndex);
      if (doc.tenantId === 'acme') expect([envelopeDekId(String(doc.ssn)), envelopeDekId(String(doc.email))]).toEqual([result.dekId, result.dekId]);
      else expect(doc.ssn).toBe(old.ssn);
    }
    f.hierarchy.clearCache();
    expect((await f.Patient.find({ email: 'canary-7@example.test' }).lean())[0]!.ssn).toBe('CANARY-7');
    const stale = before.find((b) => b.tenantId === 'acme')!;
    await f.raw.collection('patients').updateOne({ _id: stale._id as never }, { $set: { ssn: stale.ssn } });
    expect(await codeOf(f.Patient.findById(stale._id))).toBe('KEY_DESTROYED');
  });

  it('writes compare-and-swap: a value changed by the application meanwhile is not overwritten', async () => {
    const doc = await f.Patient.create(canary(1));
    const hook = mongooseReencryptionHook(f.Patient);
    const page = await hook.scan({ keyring: 'default', segment: 'tenantId:acme', cursor: null, limit: 10 });
    expect(page.records.map((r) => r.id)).toEqual([String(doc._id)]);
    await f.Patient.updateOne({ _id: doc._id }, { $set: { ssn: 'CANARY-NEWER' } });
    const ssn = page.records[0]!.fields.find((x) => x.field === 'ssn')!;
    expect(await hook.write([{ id: String(doc._id), fields: [{ field: 'ssn', previous: ssn.ciphertext, next: 'ks1.bogus' }] }])).toBe(0);
    expect((await f.Patient.findById(doc._id).lean())!.ssn).toBe('CANARY-NEWER');
    expect((await hook.scan({ keyring: 'other', segment: 'tenantId:acme', cursor: null, limit: 10 })).records).toEqual([]);
  });
});
