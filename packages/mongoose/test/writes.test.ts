import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectSealedAtRest } from './support/checks.js';
import { openFixture, type Fixture } from './support/fixture.js';

const patient = (tag: string, tenantId = 'acme') => ({ tenantId, ssn: `CANARY-${tag.toUpperCase()}`, email: `Canary-${tag}@Example.test`, name: 'plain name' });

describe('every write path stores envelopes and reads back plaintext', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture();
  });
  afterEach(async () => {
    await f.teardown();
  });

  it('save() of a new document, then of a modified one; the document keeps plaintext in memory', async () => {
    const doc = new f.Patient(patient('save'));
    await doc.save();
    expect(doc.ssn).toBe('CANARY-SAVE');
    expect(doc.isModified()).toBe(false);
    doc.ssn = 'CANARY-SAVE-2';
    await doc.save();
    await expectSealedAtRest(f, 1);
    expect((await f.Patient.findById(doc._id))!.ssn).toBe('CANARY-SAVE-2');
  });

  it('create() of one and of many documents', async () => {
    await f.Patient.create(patient('create-one'));
    await f.Patient.create([patient('create-a'), patient('create-b', 'globex')]);
    await expectSealedAtRest(f, 3);
    expect((await f.Patient.find().sort({ name: 1, _id: 1 }).lean()).map((p) => p.ssn)).toEqual(['CANARY-CREATE-ONE', 'CANARY-CREATE-A', 'CANARY-CREATE-B']);
  });

  it('insertMany() with an array, with one document, and with lean', async () => {
    const docs = await f.Patient.insertMany([patient('im-a'), patient('im-b', 'globex')]);
    expect(docs.map((d) => d.ssn)).toEqual(['CANARY-IM-A', 'CANARY-IM-B']);
    await f.Patient.insertMany(patient('im-c'));
    await f.Patient.insertMany([patient('im-d')], { lean: true });
    await expectSealedAtRest(f, 4);
    expect((await f.Patient.findOne({ email: 'canary-im-d@example.test' }))!.ssn).toBe('CANARY-IM-D');
  });

  it('bulkWrite() insertOne, updateOne, updateMany, replaceOne and deleteOne', async () => {
    const [a, b] = await f.Patient.create([patient('bw-a'), patient('bw-b', 'globex')]);
    await f.Patient.bulkWrite([
      { insertOne: { document: patient('bw-c') } },
      { updateOne: { filter: { _id: a!._id }, update: { $set: { ssn: 'CANARY-BW-A2' } } } },
      { updateMany: { filter: { name: 'plain name' }, update: { $set: { email: 'canary-bw-all@example.test' } } } },
      { replaceOne: { filter: { _id: b!._id }, replacement: { ...patient('bw-b2', 'globex') } } },
      { deleteOne: { filter: { email: 'nobody@example.test' } } },
    ]);
    await expectSealedAtRest(f, 3);
    const all = await f.Patient.find().lean();
    expect(all.map((p) => p.ssn).sort()).toEqual(['CANARY-BW-A2', 'CANARY-BW-B2', 'CANARY-BW-C']);
    expect(all.filter((p) => p.email === 'canary-bw-all@example.test')).toHaveLength(1); // the replaceOne ran last
    expect((await f.Patient.findById(b!._id).lean())!.email).toBe('canary-bw-b2@example.test');
  });

  it('updateOne() with $set, with top-level keys, and doc.updateOne()', async () => {
    const doc = await f.Patient.create(patient('u1'));
    await f.Patient.updateOne({ _id: doc._id }, { $set: { ssn: 'CANARY-U1-SET' } });
    await f.Patient.updateOne({ email: 'canary-u1@example.test' }, { email: 'canary-u1-top@example.test' });
    await doc.updateOne({ $set: { name: 'renamed' } });
    await expectSealedAtRest(f, 1);
    const read = await f.Patient.findOne({ email: 'canary-u1-top@example.test' }).lean();
    expect(read).toMatchObject({ ssn: 'CANARY-U1-SET', name: 'renamed' });
  });

  it('updateMany() $set binds each document to its own _id and tenant', async () => {
    await f.Patient.create([patient('m1'), patient('m2'), patient('m3', 'globex')]);
    const res = await f.Patient.updateMany({ name: 'plain name' }, { $set: { ssn: 'CANARY-MANY' } });
    expect(res).toMatchObject({ matchedCount: 3, modifiedCount: 3 });
    const docs = await expectSealedAtRest(f, 3);
    expect(new Set(docs.map((d) => d.ssn)).size).toBe(3);
    expect((await f.Patient.find().lean()).map((p) => p.ssn)).toEqual(['CANARY-MANY', 'CANARY-MANY', 'CANARY-MANY']);
  });

  it('upserts: $setOnInsert binds to the inserted _id; an upsert of an existing document updates it', async () => {
    const res = await f.Patient.updateOne({ tenantId: 'acme', name: 'new' }, { $set: { email: 'canary-up@example.test' }, $setOnInsert: { ssn: 'CANARY-UP' } }, { upsert: true });
    expect(res.upsertedCount).toBe(1);
    await f.Patient.updateOne({ tenantId: 'acme', name: 'new' }, { $set: { email: 'canary-up2@example.test' }, $setOnInsert: { ssn: 'CANARY-NOT-USED' } }, { upsert: true });
    await f.Patient.findOneAndUpdate({ email: 'canary-fresh@example.test' }, { $set: { tenantId: 'globex', ssn: 'CANARY-FRESH', email: 'canary-fresh@example.test' } }, { upsert: true });
    await f.Patient.updateOne({ tenantId: 'acme', email: 'Canary-From-Filter@example.test' }, { $set: { name: 'from filter' } }, { upsert: true });
    await expectSealedAtRest(f, 3);
    expect(await f.Patient.findOne({ name: 'from filter' }).lean()).toMatchObject({ email: 'canary-from-filter@example.test' });
    expect(await f.Patient.findOne({ name: 'new' }).lean()).toMatchObject({ ssn: 'CANARY-UP', email: 'canary-up2@example.test' });
    expect(await f.Patient.findOne({ email: 'canary-fresh@example.test' }).lean()).toMatchObject({ ssn: 'CANARY-FRESH', tenantId: 'globex' });
  });

  it('findOneAndUpdate() returns the decrypted document, hydrated or lean', async () => {
    await f.Patient.create(patient('fau'));
    const after = await f.Patient.findOneAndUpdate({ email: 'canary-fau@example.test' }, { $set: { ssn: 'CANARY-FAU-2' } }, { returnDocument: 'after' });
    expect(after!.ssn).toBe('CANARY-FAU-2');
    expect(after!.isModified()).toBe(false);
    const before = await f.Patient.findOneAndUpdate({ ssn: null }, { $set: { age: 3 } }).lean();
    expect(before).toBeNull();
    const lean = await f.Patient.findOneAndUpdate({ tenantId: 'acme' }, { $set: { age: 4 } }, { returnDocument: 'after', includeResultMetadata: true }).lean();
    expect((lean as unknown as { value: unknown }).value).toMatchObject({ ssn: 'CANARY-FAU-2', age: 4 });
    await expectSealedAtRest(f, 1);
  });

  it('replaceOne() and findOneAndReplace() with plain replacements, including an upsert', async () => {
    const doc = await f.Patient.create(patient('r1'));
    await f.Patient.replaceOne({ _id: doc._id }, patient('r1-replaced'));
    const replaced = await f.Patient.findOneAndReplace({ email: 'canary-r1-replaced@example.test' }, patient('r1-again'), { returnDocument: 'after' });
    expect(replaced!.ssn).toBe('CANARY-R1-AGAIN');
    await f.Patient.replaceOne({ email: 'canary-r2@example.test' }, patient('r2', 'globex'), { upsert: true });
    await expectSealedAtRest(f, 2);
    expect((await f.Patient.findOne({ email: 'canary-r2@example.test' }).lean())!.ssn).toBe('CANARY-R2');
  });

  it('an update that matches nothing writes nothing and reports so', async () => {
    await f.Patient.create(patient('none'));
    expect(await f.Patient.updateOne({ name: 'nobody' }, { $set: { ssn: 'CANARY-X' } })).toMatchObject({ matchedCount: 0, modifiedCount: 0 });
    expect(await f.Patient.findOneAndUpdate({ name: 'nobody' }, { $set: { ssn: 'CANARY-X' } })).toBeNull();
    await expect(f.Patient.updateOne({ name: 'nobody' }, { $set: { ssn: 'CANARY-X' } }).orFail()).rejects.toThrow(/No document found/);
    await expectSealedAtRest(f, 1);
  });

  it('$unset of an encrypted path removes its blind index; null clears both', async () => {
    const doc = await f.Patient.create(patient('unset'));
    await f.Patient.updateOne({ _id: doc._id }, { $unset: { email: 1 } });
    let raw = await f.raw.collection('patients').findOne({ _id: doc._id });
    expect(raw).not.toHaveProperty('email');
    expect(raw).not.toHaveProperty('emailIndex');
    await f.Patient.updateOne({ _id: doc._id }, { $set: { ssn: null } });
    raw = await f.raw.collection('patients').findOne({ _id: doc._id });
    expect(raw?.ssn).toBeNull();
    await expectSealedAtRest(f, 1);
  });

  it('{ middleware: false } cannot switch encryption off', async () => {
    const doc = await f.Patient.create(patient('mw'));
    await f.Patient.updateOne({ _id: doc._id }, { $set: { ssn: 'CANARY-MW-2' } }, { middleware: false });
    await f.Patient.insertMany([patient('mw-b')], { middleware: false } as never);
    await expectSealedAtRest(f, 2);
  });
});

describe('bulkSave() and insertOne()', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture();
  });
  afterEach(async () => {
    await f.teardown();
  });

  it('seal new and modified documents, validate their plaintext, and leave plaintext in memory', async () => {
    const existing = await f.Patient.create(patient('bs-old'));
    await f.Patient.insertOne(patient('io'));
    const fresh = new f.Patient(patient('bs-new'));
    existing.ssn = 'CANARY-BS-CHANGED';
    await f.Patient.bulkSave([fresh, existing]);
    expect([fresh.ssn, existing.ssn]).toEqual(['CANARY-BS-NEW', 'CANARY-BS-CHANGED']);
    await expectSealedAtRest(f, 3);
    expect((await f.Patient.findById(existing._id).lean())!.ssn).toBe('CANARY-BS-CHANGED');
    existing.ssn = 'not valid!';
    await expect(f.Patient.bulkSave([existing])).rejects.toThrow(/ssn format/);
    expect((await f.Patient.findById(existing._id).lean())!.ssn).toBe('CANARY-BS-CHANGED');
  });
});
