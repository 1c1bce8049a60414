import { isEnvelope } from '@keystrata/core/adapter';
import { Schema } from 'mongoose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFixture, rawPatients, type Fixture, type PatientFields } from './support/fixture.js';

/** A schema whose validators record every value they are shown. */
function spiedSchema(seen: unknown[]): Schema<PatientFields> {
  const check = (v: unknown): boolean => {
    seen.push(v);
    return typeof v === 'string' && v.startsWith('CANARY');
  };
  return new Schema<PatientFields>({
    tenantId: String,
    ssn: { type: String, encrypted: true, validate: check, maxlength: 40 },
    email: { type: String, encrypted: { index: 'emailIndex' }, match: /^canary-[a-z0-9-]+@example\.test$/ },
    name: String,
  });
}

const good = (tag: string) => ({ tenantId: 'acme', ssn: `CANARY-${tag}`, email: `canary-${tag.toLowerCase()}@example.test` });
const bad = { tenantId: 'acme', ssn: 'not-a-canary', email: 'canary-bad@example.test' };

describe('validators see plaintext on every write path', () => {
  let f: Fixture;
  const seen: unknown[] = [];
  beforeEach(async () => {
    seen.length = 0;
    f = await openFixture({}, spiedSchema(seen));
  });
  afterEach(async () => {
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter(isEnvelope)).toEqual([]);
    await f.teardown();
  });

  it('save() and create()', async () => {
    await new f.Patient(good('SAVE')).save();
    await f.Patient.create([good('CREATE')]);
    await expect(f.Patient.create(bad)).rejects.toThrow(/ssn/);
    await expect(f.Patient.create({ ...good('X'), email: 'someone@elsewhere' })).rejects.toThrow(/email/);
    expect(await rawPatients(f)).toHaveLength(2);
  });

  it('insertMany(): documents are validated before encryption; an invalid one fails the call before anything is written', async () => {
    await f.Patient.insertMany([good('IM1'), good('IM2')]);
    await expect(f.Patient.insertMany([good('IM3'), bad], { ordered: false })).rejects.toThrow(/ssn/);
    expect(await rawPatients(f)).toHaveLength(2);
  });

  it('bulkWrite(): inserted and replacing documents', async () => {
    const [a] = await f.Patient.create([good('BW1')]);
    await f.Patient.bulkWrite([{ insertOne: { document: good('BW2') } }, { replaceOne: { filter: { _id: a!._id }, replacement: good('BW3') } }]);
    await expect(f.Patient.bulkWrite([{ insertOne: { document: bad } }])).rejects.toThrow(/ssn/);
    await expect(f.Patient.bulkWrite([{ replaceOne: { filter: { _id: a!._id }, replacement: bad } }])).rejects.toThrow(/ssn/);
    expect((await f.Patient.find().lean()).map((p) => p.ssn).sort()).toEqual(['CANARY-BW2', 'CANARY-BW3']);
  });

  it('updates with runValidators (updateOne, findOneAndUpdate, updateMany, replaceOne)', async () => {
    const doc = await f.Patient.create(good('U1'));
    await f.Patient.updateOne({ _id: doc._id }, { $set: { ssn: 'CANARY-U2' } }, { runValidators: true });
    await expect(f.Patient.updateOne({ _id: doc._id }, { $set: { ssn: 'nope' } }, { runValidators: true })).rejects.toThrow(/ssn/);
    await expect(f.Patient.findOneAndUpdate({ _id: doc._id }, { email: 'bad@x' }, { runValidators: true })).rejects.toThrow(/email/);
    await expect(f.Patient.updateMany({}, { $set: { ssn: 'nope' } }, { runValidators: true })).rejects.toThrow(/ssn/);
    await expect(f.Patient.replaceOne({ _id: doc._id }, bad, { runValidators: true })).rejects.toThrow(/ssn/);
    await f.Patient.replaceOne({ _id: doc._id }, good('U3'), { runValidators: true });
    expect((await f.Patient.findById(doc._id).lean())!.ssn).toBe('CANARY-U3');
  });
});
