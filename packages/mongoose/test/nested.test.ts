import { Schema } from 'mongoose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf } from './support/checks.js';
import { openFixture, rawPatients, type Fixture } from './support/fixture.js';

interface Record {
  tenantId?: string;
  address?: { street?: string; city?: string };
  notes?: unknown;
}

describe('nested and Mixed encrypted paths', () => {
  let f: Fixture;
  beforeEach(async () => {
    const schema = new Schema<Record>({
      tenantId: String,
      address: { street: { type: String, encrypted: true }, city: String },
      notes: { type: Schema.Types.Mixed, encrypted: true },
    });
    f = await openFixture({}, schema as never);
  });
  afterEach(async () => {
    await f.teardown();
  });

  it('round-trips a nested String path and a Mixed value through save, updates and reads', async () => {
    const Model = f.Patient as unknown as import('mongoose').Model<Record>;
    const doc = await Model.create({ tenantId: 'acme', address: { street: 'CANARY street 1', city: 'Springfield' }, notes: { allergy: 'CANARY-N', since: 2001 } });
    await Model.create({ tenantId: 'acme', notes: 42 });
    let raw = await rawPatients(f);
    expect(JSON.stringify(raw).toLowerCase()).not.toContain('canary');
    const street = (raw[0]!.address as { street: string }).street;
    expect(await f.hierarchy.decryptValue(street, { model: 'Patient', field: 'address.street', recordId: String(doc._id), segment: 'tenantId:acme' })).toBe('CANARY street 1');
    expect(await Model.findById(doc._id).lean()).toMatchObject({ address: { street: 'CANARY street 1', city: 'Springfield' }, notes: { allergy: 'CANARY-N', since: 2001 } });
    expect((await Model.findOne({ notes: { $exists: true }, _id: { $ne: doc._id } }))!.notes).toBe(42);
    await Model.updateOne({ _id: doc._id }, { $set: { 'address.street': 'CANARY street 2' } });
    expect((await Model.findById(doc._id))!.address!.street).toBe('CANARY street 2');
    await Model.updateOne({ _id: doc._id }, { $set: { address: { street: 'CANARY street 3', city: 'Shelbyville' } } });
    const loaded = await Model.findById(doc._id);
    expect(loaded!.address).toMatchObject({ street: 'CANARY street 3', city: 'Shelbyville' });
    loaded!.notes = ['CANARY-list'];
    await loaded!.save();
    raw = await rawPatients(f);
    expect(JSON.stringify(raw).toLowerCase()).not.toContain('canary');
    expect((await Model.findById(doc._id).lean())!.notes).toEqual(['CANARY-list']);
  });

  it('refuses conditions inside or around encrypted values', async () => {
    const Model = f.Patient as unknown as import('mongoose').Model<Record>;
    expect(await codeOf(Model.find({ 'address.street': 'x' }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(Model.find({ address: { street: 'x', city: 'y' } }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(Model.find({ 'notes.allergy': 'x' }))).toBe('QUERY_UNSUPPORTED');
    expect(await codeOf(Model.updateOne({}, { $set: { 'notes.allergy': 'x' } }))).toBe('QUERY_UNSUPPORTED');
    expect(await Model.countDocuments({ address: { $exists: true } })).toBe(0);
  });
});
