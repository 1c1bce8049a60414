import { Schema } from 'mongoose';
import { afterEach, describe, expect, it } from 'vitest';
import { keystrata } from '../src/index.js';
import { codeOf } from './support/checks.js';
import { openFixture, patientSchema, rawPatients, type Fixture } from './support/fixture.js';

const patient = (tag: string, tenantId = 'acme') => ({ tenantId, ssn: `CANARY-${tag.toUpperCase()}`, email: `canary-${tag}@example.test`, name: 'plain name' });
const rawDump = async (f: Fixture) => JSON.stringify(await rawPatients(f)).toLowerCase();

describe('issue 12 (Mongoose)', () => {
  let f: Fixture;
  afterEach(async () => {
    await f.teardown();
  });

  it('issue 12: a blind index supplied on create/insertMany/save is refused, nothing written', async () => {
    f = await openFixture();
    const a = await f.Patient.create(patient('a'));
    const [stored] = await rawPatients(f);
    const planted = String(stored!.emailIndex);
    await f.raw.collection('patients').updateOne({ _id: a._id }, { $unset: { emailIndex: 1 } });
    const before = await rawDump(f);
    const withoutField = { tenantId: 'acme', ssn: 'CANARY-B', emailIndex: planted };
    expect(await codeOf(f.Patient.create(withoutField))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(f.Patient.create({ ...patient('c'), emailIndex: planted } as Record<string, unknown>))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(f.Patient.insertMany([withoutField]))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(f.Patient.insertMany([withoutField], { lean: true }))).toBe('QUERY_UNSUPPORTED');
    expect(await rawDump(f)).toBe(before);
    const b = await f.Patient.create(patient('b2'));
    const afterB = await rawDump(f);
    const loaded = (await f.Patient.findById(b._id))!;
    (loaded as unknown as { emailIndex: string }).emailIndex = planted;
    expect(await codeOf(loaded.save())).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(f.Patient.updateOne({ _id: b._id }, { $set: { emailIndex: planted } }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(f.Patient.bulkWrite([{ insertOne: { document: withoutField } }]))).toBe('QUERY_UNSUPPORTED');
    expect(await rawDump(f)).toBe(afterB);
    expect(await f.Patient.findOne({ email: 'canary-a@example.test' })).toBeNull();
    const again = (await f.Patient.findById(b._id))!;
    again.name = 'edited';
    await again.save();
    again.email = 'canary-b3@example.test';
    await again.save();
    expect(String((await f.Patient.findOne({ email: 'canary-b3@example.test' }))!._id)).toBe(String(b._id));
  });

  it('issue 12: { $in: [/re/] } and other regexes on an encrypted path are refused', async () => {
    f = await openFixture();
    await f.Patient.create(patient('a'));
    expect(await codeOf(f.Patient.find({ email: { $in: [/canary/] } }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(f.Patient.find({ email: { $nin: ['x@example.test', /canary/] } }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(f.Patient.countDocuments({ email: { $eq: /canary/ } }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(f.Patient.find({ $or: [{ email: { $in: [/a/] } }] }))).toBe('QUERY_UNSUPPORTED');
    expect(await f.Patient.countDocuments({ email: { $in: ['canary-a@example.test'] } })).toBe(1);
  });

  it('issue 12: a planted object or array in an encrypted path throws through hydrated find/findById/cursor as lean does', async () => {
    f = await openFixture();
    const a = await f.Patient.create(patient('a'));
    await f.raw.collection('patients').updateOne({ _id: a._id }, { $set: { ssn: { planted: 'CANARY-OBJ' } } });
    const expected = await codeOf(f.Patient.find().lean());
    expect(expected).toBe('CIPHERTEXT_MALFORMED');
    expect(await codeOf(f.Patient.find())).toBe(expected);
    expect(await codeOf(f.Patient.findById(a._id))).toBe(expected);
    expect(
      await codeOf(
        (async () => {
          for await (const doc of f.Patient.find().cursor()) void doc;
        })(),
      ),
    ).toBe(expected);
    await f.raw.collection('patients').updateOne({ _id: a._id }, { $set: { ssn: ['CANARY-ARR'] } });
    expect(await codeOf(f.Patient.findById(a._id))).toBe(expected);
    expect(await codeOf(f.Patient.findById(a._id).lean())).toBe(expected);
  });

  it('issue 12: arrays, nested arrays and Maps of encrypted strings are refused when the plugin is applied', async () => {
    f = await openFixture();
    const hierarchy = f.hierarchy;
    const apply = (definition: Record<string, unknown>) => {
      try {
        new Schema({ tenantId: String, ...definition }).plugin(keystrata, { hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
        return 'none';
      } catch (error) {
        return (error as { code?: string }).code ?? String(error);
      }
    };
    expect(apply({ tags: [{ type: String, encrypted: true }] })).toBe('CONFIG_INVALID');
    expect(apply({ tags: { type: [String], encrypted: true } })).toBe('CONFIG_INVALID');
    expect(apply({ grid: [[{ type: String, encrypted: true }]] })).toBe('CONFIG_INVALID');
    expect(apply({ notes: { type: Map, of: { type: String, encrypted: true } } })).toBe('CONFIG_INVALID');
    expect(apply({ notes: { type: Map, of: String, encrypted: true } })).toBe('CONFIG_INVALID');
    expect(apply({ ssn: { type: String, encrypted: true } })).toBe('none');
    expect(apply({ flags: [{ encrypted: Boolean, label: String }], meta: { encrypted: { type: Boolean } } })).toBe('none'); // fields named "encrypted"
    expect(apply({ tagSets: [{ type: [String], encrypted: { index: 'tagIndex' } }] })).toBe('CONFIG_INVALID');
  });

  it('issue 12: paths added with schema.add() after the plugin are encrypted too', async () => {
    const schema = patientSchema();
    f = await openFixture({}, schema);
    const late = new Schema({ tenantId: String, ssn: { type: String, encrypted: true } });
    late.plugin(keystrata, { hierarchy: f.hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
    late.add({ secret: { type: String, encrypted: true } });
    const Late = f.connection.model('Late', late);
    await Late.create({ tenantId: 'acme', ssn: 'CANARY-1', secret: 'CANARY-SECRET' } as Record<string, unknown>);
    const stored = await f.raw.collection('lates').find().toArray();
    expect(JSON.stringify(stored).toLowerCase()).not.toContain('canary');
    const [doc] = await Late.find().lean();
    expect((doc as unknown as { secret: string }).secret).toBe('CANARY-SECRET');
    const empty = new Schema({ tenantId: String, note: String });
    empty.plugin(keystrata, { hierarchy: f.hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
    empty.add({ later: { type: String, encrypted: true } });
    const Empty = f.connection.model('Empty', empty);
    await Empty.create({ tenantId: 'acme', later: 'CANARY-LATER' } as Record<string, unknown>);
    expect(JSON.stringify(await f.raw.collection('empties').find().toArray()).toLowerCase()).not.toContain('canary');
  });

  it("issue 12: pre('save') and pre('updateOne') hooks registered after the plugin that set an encrypted path never store plaintext", async () => {
    const schema = patientSchema();
    f = await openFixture({}, new Schema({ tenantId: String }));
    schema.plugin(keystrata, { hierarchy: f.hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
    schema.pre('save', function () {
      (this as unknown as { ssn: string }).ssn = 'CANARY-HOOK-SAVE';
    });
    schema.pre('updateOne', function () {
      (this as unknown as { set(p: string, v: string): void }).set('ssn', 'CANARY-HOOK-UPDATE');
    });
    const Hooked = f.connection.model('Hooked', schema, 'patients');
    const results = [await codeOf(Hooked.create(patient('a'))), await codeOf(Hooked.updateOne({ tenantId: 'acme' }, { $set: { name: 'x' } }))];
    expect(JSON.stringify(await rawPatients(f)).toLowerCase()).not.toContain('canary-hook');
    expect(results).toEqual(['none', 'none']); // the hooks now run before Keystrata encrypts
    expect((await Hooked.findOne().lean())!.ssn).toBe('CANARY-HOOK-UPDATE');
  });

  it('issue 12: a discriminator declared after the base model was first used encrypts its own paths', async () => {
    f = await openFixture();
    await f.Patient.create(patient('base'));
    const Vip = f.Patient.discriminator('Vip', new Schema({ vipNote: { type: String, encrypted: true } }));
    await Vip.create({ ...patient('vip'), vipNote: 'CANARY-VIP' });
    await Vip.insertMany([{ ...patient('vip2'), vipNote: 'CANARY-VIP2' }]);
    expect(await rawDump(f)).not.toContain('canary');
    expect(((await Vip.findOne({ tenantId: 'acme', vipNote: { $exists: true } }).lean()) as unknown as { vipNote: string }).vipNote).toMatch(/^CANARY-VIP/);
  });

  it("issue 12 / issue 11 §2: a value moved into another tenant's document fails when only the encrypted path is projected", async () => {
    f = await openFixture({ bindRecordId: false });
    const a = await f.Patient.create(patient('a', 'tenant-a'));
    const b = await f.Patient.create(patient('b', 'tenant-b'));
    const [storedA] = await f.raw.collection('patients').find({ _id: a._id }).toArray();
    await f.raw.collection('patients').updateOne({ _id: b._id }, { $set: { ssn: storedA!.ssn } });
    expect(await codeOf(f.Patient.findById(b._id, { ssn: 1 }))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(f.Patient.find({}, { ssn: 1 }).lean())).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(f.Patient.find().select('ssn -_id'))).toBe('CIPHERTEXT_TAMPERED');
    expect(
      await codeOf(
        (async () => {
          for await (const doc of f.Patient.find({ _id: b._id }, { ssn: 1 }).cursor()) void doc;
        })(),
      ),
    ).toBe('CIPHERTEXT_TAMPERED');
    for await (const doc of f.Patient.find({ _id: a._id }, { ssn: 1 }).cursor()) expect([doc.ssn, (doc as { tenantId?: string }).tenantId]).toEqual(['CANARY-A', undefined]);
    const ok = (await f.Patient.findById(a._id, { ssn: 1 }).lean())!;
    expect(ok.ssn).toBe('CANARY-A');
    expect(ok.tenantId).toBeUndefined(); // fetched for the check, not returned
    const hydrated = (await f.Patient.findById(a._id, { ssn: 1 }))!;
    expect([hydrated.ssn, hydrated.tenantId]).toEqual(['CANARY-A', undefined]);
  });

  it('issue 12 / issue 11 §2: with a function policy, a projection of the encrypted path gives the function the whole record', async () => {
    f = await openFixture({ segment: ({ record }) => `region:${String(record.tenantId)}`, bindRecordId: false });
    const a = await f.Patient.create(patient('a', 'eu'));
    const b = await f.Patient.create(patient('b', 'us'));
    const ok = (await f.Patient.findById(a._id, { ssn: 1 }).lean())!;
    expect([ok.ssn, ok.tenantId, ok.name]).toEqual(['CANARY-A', undefined, undefined]);
    const [storedA] = await f.raw.collection('patients').find({ _id: a._id }).toArray();
    await f.raw.collection('patients').updateOne({ _id: b._id }, { $set: { ssn: storedA!.ssn } });
    expect(await codeOf(f.Patient.findById(b._id, { ssn: 1 }))).toBe('CIPHERTEXT_TAMPERED');
  });
});
