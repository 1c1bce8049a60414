import { envelopeDekId } from '@keystrata/core/adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mongooseReencryptionHook } from '../src/index.js';
import { expectSealedAtRest } from './support/checks.js';
import { openFixture, rawPatients, type Fixture } from './support/fixture.js';

// FerretDB 1.24 hangs on update commands of ~100 statements or more: without chunking these tests
// time out instead of failing on an assertion.
const HANG = 30_000;
const canary = (i: number, tenantId = 'acme') => ({ tenantId, ssn: `CANARY-${i}`, email: `canary-${i}@example.test`, name: `p${String(i).padStart(3, '0')}` });
const dekIds = (doc: Record<string, unknown>): string[] => [envelopeDekId(String(doc.ssn)), envelopeDekId(String(doc.email))];

describe('bulk writes larger than FerretDB takes in one command', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture();
  });
  afterEach(async () => {
    await f.teardown();
  });

  it(
    'rotateDek with the default batch size re-encrypts every document of a 230-document segment',
    async () => {
      await f.Patient.insertMany(Array.from({ length: 230 }, (_, i) => canary(i)));
      await f.Patient.create(canary(999, 'globex'));
      const before = new Map((await rawPatients(f)).map((d) => [String(d._id), d]));
      const result = await f.hierarchy.rotateDek({ segment: 'tenantId:acme', hook: mongooseReencryptionHook(f.Patient) });
      expect(result).toMatchObject({ version: 2, reencrypted: 230 });
      const after = await expectSealedAtRest(f, 231);
      for (const doc of after) {
        const old = before.get(String(doc._id))!;
        if (doc.tenantId !== 'acme') expect(doc.ssn).toBe(old.ssn);
        else {
          expect(dekIds(old)).not.toContain(result.dekId);
          expect(dekIds(doc)).toEqual([result.dekId, result.dekId]);
        }
      }
      f.hierarchy.clearCache();
      expect((await f.Patient.find({ tenantId: 'acme' }).sort({ name: 1 }).lean()).map((p) => p.ssn)).toEqual(Array.from({ length: 230 }, (_, i) => `CANARY-${i}`));
    },
    HANG,
  );

  it(
    'the hook writes more than one chunk compare-and-swap and counts only the documents it changed',
    async () => {
      await f.Patient.insertMany(Array.from({ length: 120 }, (_, i) => canary(i)));
      const hook = mongooseReencryptionHook(f.Patient);
      const page = await hook.scan({ keyring: 'default', segment: 'tenantId:acme', cursor: null, limit: 200 });
      expect(page.records).toHaveLength(120);
      const changed = page.records[77]!;
      await f.Patient.updateOne({ _id: changed.id }, { $set: { ssn: 'CANARY-NEWER' } });
      const updates = page.records.map((r) => ({ id: r.id, fields: r.fields.filter((x) => x.field === 'ssn').map((x) => ({ field: x.field, previous: x.ciphertext, next: `${x.ciphertext}-next` })) }));
      expect(await hook.write(updates)).toBe(119);
      const stored = await rawPatients(f);
      expect(stored.filter((d) => String(d.ssn).endsWith('-next'))).toHaveLength(119);
      expect((await f.Patient.findById(changed.id).lean())!.ssn).toBe('CANARY-NEWER');
    },
    HANG,
  );

  it(
    'updateMany() of an encrypted path across 130 documents completes and reads back',
    async () => {
      await f.Patient.insertMany(Array.from({ length: 130 }, (_, i) => canary(i, i % 2 === 0 ? 'acme' : 'globex')));
      const res = await f.Patient.updateMany({ name: { $ne: 'nobody' } }, { $set: { ssn: 'CANARY-MANY' } });
      expect(res).toMatchObject({ matchedCount: 130, modifiedCount: 130 });
      const docs = await expectSealedAtRest(f, 130);
      expect(new Set(docs.map((d) => d.ssn)).size).toBe(130);
      const read = await f.Patient.find().lean();
      expect(read.map((p) => p.ssn)).toEqual(Array(130).fill('CANARY-MANY'));
      expect(read.map((p) => p.email).sort()).toEqual(Array.from({ length: 130 }, (_, i) => `canary-${i}@example.test`).sort());
    },
    HANG,
  );
});
