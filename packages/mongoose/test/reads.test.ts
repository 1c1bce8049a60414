import { Schema } from 'mongoose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decryptDocument } from '../src/index.js';
import { codeOf } from './support/checks.js';
import { openFixture, type Fixture } from './support/fixture.js';

const patient = (tag: string, tenantId = 'acme') => ({ tenantId, ssn: `CANARY-${tag.toUpperCase()}`, email: `canary-${tag}@example.test`, name: tag });

describe('reads return plaintext', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture();
    await f.Patient.create([patient('a'), patient('b'), patient('c', 'globex')]);
  });
  afterEach(async () => {
    await f.teardown();
  });

  it('find() and findOne(), hydrated and lean; hydrated documents are not marked modified', async () => {
    const docs = await f.Patient.find({ tenantId: 'acme' }).sort({ name: 1 });
    expect(docs.map((d) => d.ssn)).toEqual(['CANARY-A', 'CANARY-B']);
    expect(docs.every((d) => !d.isModified())).toBe(true);
    expect((await f.Patient.findOne({ name: 'c' }).lean())!.email).toBe('canary-c@example.test');
    expect((await f.Patient.findById(docs[0]!._id))!.email).toBe('canary-a@example.test');
  });

  it('a read document saved after a plain change keeps its ciphertext; a changed encrypted path alone is sealed again', async () => {
    const stored = async () => (await f.raw.collection('patients').findOne({ name: 'a' }))!;
    const before = await stored();
    const doc = (await f.Patient.findOne({ name: 'a' }))!;
    expect([doc.ssn, doc.email, doc.modifiedPaths()]).toEqual(['CANARY-A', 'canary-a@example.test', []]);
    doc.age = 40;
    await doc.save();
    expect(await stored()).toMatchObject({ ssn: before.ssn, email: before.email, emailIndex: before.emailIndex, age: 40 });
    doc.ssn = 'CANARY-A2';
    await doc.save();
    const after = await stored();
    expect([after.ssn === before.ssn, after.email === before.email, doc.ssn]).toEqual([false, true, 'CANARY-A2']);
    expect((await f.Patient.findById(doc._id).lean())!.ssn).toBe('CANARY-A2');
  });

  it('equality on an indexed path goes through the blind index: value, $eq, $in, $ne, $nin, $or, countDocuments, exists, deleteOne', async () => {
    const names = async (filter: object) => (await f.Patient.find(filter).lean()).map((p) => p.name).sort();
    expect(await names({ email: 'CANARY-A@example.test' })).toEqual(['a']);
    expect(await names({ email: { $eq: 'canary-b@example.test' } })).toEqual(['b']);
    expect(await names({ email: { $in: ['canary-a@example.test', 'canary-c@example.test'] } })).toEqual(['a', 'c']);
    expect(await names({ email: { $ne: 'canary-a@example.test' } })).toEqual(['b', 'c']);
    expect(await names({ email: { $nin: ['canary-a@example.test', null] } })).toEqual(['b', 'c']);
    expect(await names({ $or: [{ email: 'canary-a@example.test' }, { name: 'c' }] })).toEqual(['a', 'c']);
    expect(await names({ ssn: { $exists: true }, email: { $ne: null } })).toEqual(['a', 'b', 'c']);
    expect(await f.Patient.countDocuments({ email: 'canary-b@example.test' })).toBe(1);
    expect(await f.Patient.exists({ email: 'canary-c@example.test' })).not.toBeNull();
    expect(await f.Patient.where('email').equals('canary-a@example.test').countDocuments()).toBe(1);
    await f.Patient.deleteOne({ email: 'canary-a@example.test' });
    expect(await names({})).toEqual(['b', 'c']);
  });

  it('cursors: for await, eachAsync and lean cursors decrypt each document', async () => {
    const seen: string[] = [];
    for await (const doc of f.Patient.find().sort({ name: 1 }).cursor()) seen.push(doc.ssn!);
    await f.Patient.find({ tenantId: 'globex' })
      .lean()
      .cursor()
      .eachAsync((doc) => {
        seen.push(doc.ssn!);
      });
    expect(seen).toEqual(['CANARY-A', 'CANARY-B', 'CANARY-C', 'CANARY-C']);
  });

  it('populated documents are decrypted by their own model, hydrated and lean', async () => {
    const Visit = f.connection.model('Visit', new Schema({ note: String, patient: { type: Schema.Types.ObjectId, ref: 'Patient' } }));
    const a = await f.Patient.findOne({ name: 'a' });
    await Visit.create({ note: 'checkup', patient: a!._id });
    const visit = await Visit.findOne().populate<{ patient: { ssn: string } }>('patient');
    expect(visit!.patient.ssn).toBe('CANARY-A');
    const lean = await Visit.findOne().populate<{ patient: { email: string } }>('patient').lean();
    expect(lean!.patient.email).toBe('canary-a@example.test');
  });

  it('aggregate(), Model.hydrate() and the raw driver return ciphertext; decryptDocument opens them', async () => {
    const rows = await f.Patient.aggregate([{ $match: { email: 'canary-a@example.test' } }]);
    expect(rows).toHaveLength(1);
    expect(rows[0].ssn).toMatch(/^ks1\./);
    await decryptDocument(f.Patient, rows);
    expect(rows[0].ssn).toBe('CANARY-A');
    const raw = await f.raw.collection('patients').findOne({ name: 'b' });
    const hydrated = f.Patient.hydrate(raw!);
    expect(hydrated.ssn).toMatch(/^ks1\./);
    await decryptDocument(f.Patient, hydrated);
    expect(hydrated.ssn).toBe('CANARY-B');
    expect(hydrated.isModified()).toBe(false);
    expect((await decryptDocument(f.Patient, { ...raw })).email).toBe('canary-b@example.test');
  });

  it('rejects what cannot work on ciphertext with QUERY_UNSUPPORTED', async () => {
    const rejected = {
      regex: () => f.Patient.find({ email: /canary/ }),
      $regex: () => f.Patient.find({ email: { $regex: 'canary' } }),
      $gt: () => f.Patient.find({ ssn: { $gt: 'A' } }),
      'equality on a path without blind index': () => f.Patient.find({ ssn: 'CANARY-A' }),
      'sort on an encrypted path': () => f.Patient.find().sort({ email: 1 }),
      'distinct of an encrypted path': () => f.Patient.distinct('ssn'),
      'projection without _id': () => f.Patient.find({}, { _id: 0, ssn: 1 }),
      '$expr on an encrypted path': () => f.Patient.find({ $expr: { $eq: ['$ssn', 'x'] } }),
      '$inc on an encrypted path': () => f.Patient.updateOne({ name: 'a' }, { $inc: { ssn: 1 } }),
      '$push on an encrypted path': () => f.Patient.updateMany({}, { $push: { email: 'x' } }),
      '$rename to an encrypted path': () => f.Patient.updateOne({ name: 'a' }, { $rename: { name: 'ssn' } }),
      'write to a blind-index path': () => f.Patient.updateOne({ name: 'a' }, { $set: { emailIndex: 'x' } }),
      'update pipeline': () => f.Patient.updateOne({ name: 'a' }, [{ $set: { ssn: { $concat: ['$ssn', 'x'] } } }], { updatePipeline: true }),
      'aggregate $sort': () => f.Patient.aggregate([{ $sort: { ssn: 1 } }]),
      'aggregate $match $regex': () => f.Patient.aggregate([{ $match: { email: { $regex: 'x' } } }]),
      'bulkWrite filter $gt': () => f.Patient.bulkWrite([{ deleteMany: { filter: { ssn: { $gt: '' } } } }]),
    };
    for (const [name, query] of Object.entries(rejected)) expect(await codeOf(query()), name).toBe('QUERY_UNSUPPORTED');
    const error = await f.Patient.find({ email: /CANARY-secret/ }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error!.message).toContain('Patient.email');
    expect(error!.message).not.toContain('CANARY-secret');
    expect(await f.Patient.countDocuments()).toBe(3);
  });
});
