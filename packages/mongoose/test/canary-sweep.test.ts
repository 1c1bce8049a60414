import { Schema } from 'mongoose';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { canaryTag, ferretDbDataDir, filesContaining } from '../../testing/src/canary-files.js';
import { openFixture, type Fixture } from './support/fixture.js';

/**
 * Issue 12: every write path with a canary plaintext, then a search of the raw FerretDB files
 * (its SQLite backend: database files, -wal and -journal). A new write path that leaks plaintext
 * fails here. On an external MONGODB_URI server the files cannot be read: the documents are
 * searched through the raw driver only.
 */
describe('canary sweep on the MongoDB wire protocol (FerretDB)', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture();
  });
  afterEach(async () => {
    await f.teardown();
  });

  const searchFiles = (tag: string): string[] | undefined => {
    const dir = ferretDbDataDir(inject('mongodbUri'));
    return dir === undefined ? undefined : filesContaining([dir], tag);
  };

  it('issue 12: no write path stores the canary plaintext anywhere in the database files', async () => {
    const tag = canaryTag();
    const v = (path: string) => `${tag}-${path}`;
    const patient = (path: string, tenantId = 'acme') => ({ tenantId, ssn: v(path), email: `${v(path)}@example.test`, name: 'plain name' });
    const { Patient } = f;
    const Vip = Patient.discriminator('VipSweep', new Schema({ vipNote: { type: String, encrypted: true } }));
    const writes: Record<string, () => Promise<unknown>> = {
      saveNew: () => new Patient(patient('save-new')).save(),
      saveModified: async () => {
        const doc = await new Patient(patient('save-mod')).save();
        doc.ssn = v('save-mod-2');
        return doc.save();
      },
      saveMoveTenant: async () => {
        const doc = await Patient.create(patient('save-move'));
        doc.tenantId = 'globex';
        return doc.save();
      },
      createOne: () => Patient.create(patient('create-one')),
      createMany: () => Patient.create([patient('create-many-1'), patient('create-many-2', 'globex')]),
      insertMany: () => Patient.insertMany([patient('insert-many-1'), patient('insert-many-2')]),
      insertManyOne: () => Patient.insertMany(patient('insert-many-one')),
      insertManyLean: () => Patient.insertMany([patient('insert-many-lean')], { lean: true }),
      bulkSave: async () => {
        const docs = [new Patient(patient('bulk-save-1')), new Patient(patient('bulk-save-2'))];
        return Patient.bulkSave(docs);
      },
      bulkWrite: async () => {
        const a = await Patient.create(patient('bw-a'));
        return Patient.bulkWrite([
          { insertOne: { document: patient('bw-insert') } },
          { updateOne: { filter: { _id: a._id }, update: { $set: { ssn: v('bw-update') } } } },
          { updateMany: { filter: { tenantId: 'globex' }, update: { $set: { ssn: v('bw-update-many') } } } },
          { replaceOne: { filter: { _id: a._id }, replacement: patient('bw-replace') } },
        ]);
      },
      updateOne: async () => {
        const a = await Patient.create(patient('u1'));
        return Patient.updateOne({ _id: a._id }, { $set: { ssn: v('u1-2'), email: `${v('u1-2')}@example.test` } });
      },
      updateOnePlain: async () => {
        const a = await Patient.create(patient('u2'));
        return Patient.updateOne({ _id: a._id }, { ssn: v('u2-2') });
      },
      updateMany: () => Patient.updateMany({ tenantId: 'acme' }, { $set: { ssn: v('update-many') } }),
      upsert: () => Patient.updateOne({ tenantId: 'initech', email: `${v('upsert')}@example.test` }, { $setOnInsert: { ssn: v('upsert-insert') } }, { upsert: true }),
      findOneAndUpdate: async () => {
        const a = await Patient.create(patient('foau'));
        return Patient.findOneAndUpdate({ _id: a._id }, { $set: { ssn: v('foau-2') } }, { new: true });
      },
      findOneAndReplace: async () => {
        const a = await Patient.create(patient('foar'));
        return Patient.findOneAndReplace({ _id: a._id }, patient('foar-2'), { new: true });
      },
      replaceOne: async () => {
        const a = await Patient.create(patient('replace'));
        return Patient.replaceOne({ _id: a._id }, patient('replace-2'));
      },
      documentUpdateOne: async () => {
        const a = await Patient.create(patient('doc-update'));
        return a.updateOne({ $set: { ssn: v('doc-update-2') } });
      },
      discriminator: () => Vip.create({ ...patient('vip'), vipNote: v('vip-note') }),
    };
    for (const [name, write] of Object.entries(writes)) await expect(write(), name).resolves.toBeDefined();
    const refused: Record<string, () => Promise<unknown>> = {
      plantedIndex: () => Patient.create({ ...patient('planted-index'), emailIndex: 'bi1.planted' } as Record<string, unknown>),
      regexIn: () => Patient.find({ email: { $in: [new RegExp(tag)] } }),
    };
    for (const [name, write] of Object.entries(refused)) await expect(write(), name).rejects.toMatchObject({ code: 'QUERY_UNSUPPORTED' });
    expect((await Patient.find({ tenantId: 'acme' }).lean()).every((p) => String(p.ssn).startsWith(tag))).toBe(true);
    const raw = JSON.stringify(await f.raw.collection('patients').find({}).toArray()).toUpperCase();
    expect(raw).toContain('KS1.');
    expect(raw).not.toContain(tag);
    const hits = searchFiles(tag);
    if (hits !== undefined) expect(hits).toEqual([]);
  });

  it('issue 12: the sweep can fail: a plaintext written around the plugin is found', async () => {
    const tag = canaryTag();
    await f.raw.collection('patients').insertOne({ tenantId: 'acme', note: `${tag}-plain` });
    const raw = JSON.stringify(await f.raw.collection('patients').find({}).toArray()).toUpperCase();
    expect(raw).toContain(tag);
    const hits = searchFiles(tag);
    if (hits !== undefined) expect(hits.length).toBeGreaterThan(0);
  });
});
