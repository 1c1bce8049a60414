import { envelopeDekId, type SegmentPolicy } from '@keystrata/core/adapter';
import { describe, expect, it } from 'vitest';
import { codeOf } from './support/checks.js';
import { openFixture, rawPatients, type Fixture } from './support/fixture.js';

const canary = (tag: string, tenantId = 'acme') => ({ tenantId, ssn: `CANARY-${tag}`, email: `canary-${tag.toLowerCase()}@example.test`, name: tag });

async function withFixture(plugin: { segment?: SegmentPolicy; bindRecordId?: boolean }, run: (f: Fixture) => Promise<void>): Promise<void> {
  const f = await openFixture(plugin);
  try {
    await run(f);
  } finally {
    await f.teardown();
  }
}

/** The DEK segment each stored ssn was sealed under, found through the key store. */
async function segmentsOf(f: Fixture): Promise<string[]> {
  const deks = await f.connection.db!.collection('keystrata_dek').find().toArray();
  return (await rawPatients(f)).map((d) => String(deks.find((k) => String(k._id) === envelopeDekId(String(d.ssn)))?.segment));
}

describe('segment policies and record binding', () => {
  it('tenant: one DEK per tenant; moving a document to another tenant with save() re-encrypts every path', async () => {
    await withFixture({}, async (f) => {
      const doc = await f.Patient.create(canary('T1'));
      await f.Patient.create(canary('T2', 'globex'));
      expect((await segmentsOf(f)).sort()).toEqual(['tenantId:acme', 'tenantId:globex']);
      const loaded = await f.Patient.findById(doc._id);
      loaded!.tenantId = 'globex';
      await loaded!.save();
      expect(await segmentsOf(f)).toEqual(['tenantId:globex', 'tenantId:globex']);
      expect(await f.Patient.findById(doc._id).lean()).toMatchObject({ ssn: 'CANARY-T1', email: 'canary-t1@example.test' });
      const partial = await f.Patient.findById(doc._id).select('tenantId');
      partial!.tenantId = 'acme';
      expect(await codeOf(partial!.save())).toBe('QUERY_UNSUPPORTED');
    });
  });

  it('tenant: an update changing the tenant must rewrite every encrypted path', async () => {
    await withFixture({}, async (f) => {
      const doc = await f.Patient.create(canary('T3'));
      expect(await codeOf(f.Patient.updateOne({ _id: doc._id }, { $set: { tenantId: 'globex' } }))).toBe('QUERY_UNSUPPORTED');
      expect(await codeOf(f.Patient.updateOne({ _id: doc._id }, { $set: { tenantId: 'globex', ssn: 'CANARY-T3B' } }))).toBe('QUERY_UNSUPPORTED');
      await f.Patient.updateOne({ _id: doc._id }, { $set: { tenantId: 'globex', ssn: 'CANARY-T3C' }, $unset: { email: 1 } });
      expect(await segmentsOf(f)).toEqual(['tenantId:globex']);
      expect(await f.Patient.findById(doc._id).lean()).toMatchObject({ ssn: 'CANARY-T3C', tenantId: 'globex' });
    });
  });

  it('tenant: a document or update without the tenant field fails closed, writing nothing', async () => {
    await withFixture({}, async (f) => {
      expect(await codeOf(f.Patient.create({ ssn: 'CANARY-NOTENANT' }))).toBe('CONFIG_INVALID');
      expect(await codeOf(f.Patient.updateOne({ name: 'x' }, { $set: { ssn: 'CANARY-NOTENANT' } }, { upsert: true }))).toBe('CONFIG_INVALID');
      expect(await rawPatients(f)).toEqual([]);
    });
  });

  it('record: one DEK per document (crypto-shredding one record)', async () => {
    await withFixture({ segment: { by: 'record' } }, async (f) => {
      const [a, b] = await f.Patient.create([canary('R1'), canary('R2')]);
      expect((await segmentsOf(f)).sort()).toEqual([`Patient:${String(a!._id)}`, `Patient:${String(b!._id)}`].sort());
      await f.Patient.updateMany({}, { $set: { ssn: 'CANARY-R3' } });
      await f.hierarchy.destroy({ kind: 'segment', segment: `Patient:${String(a!._id)}` });
      expect(await codeOf(f.Patient.findById(a!._id))).toBe('KEY_DESTROYED');
      expect((await f.Patient.findById(b!._id))!.ssn).toBe('CANARY-R3');
    });
  });

  it('fixed and function policies', async () => {
    await withFixture({ segment: { by: 'fixed', segment: 'all-patients' } }, async (f) => {
      await f.Patient.create([canary('F1'), canary('F2', 'globex')]);
      expect(await segmentsOf(f)).toEqual(['all-patients', 'all-patients']);
    });
    const policy: SegmentPolicy = ({ record }) => `region:${String(record.tenantId).startsWith('a') ? 'eu' : 'us'}`;
    await withFixture({ segment: policy }, async (f) => {
      const [a] = await f.Patient.create([canary('P1'), canary('P2', 'globex')]);
      expect(await segmentsOf(f)).toEqual(['region:eu', 'region:us']);
      await f.Patient.updateOne({ _id: a!._id }, { $set: { ssn: 'CANARY-P3' } });
      const loaded = await f.Patient.findById(a!._id);
      loaded!.tenantId = 'globex';
      await loaded!.save();
      expect(await segmentsOf(f)).toEqual(['region:us', 'region:us']);
      expect((await f.Patient.findById(a!._id).lean())!.ssn).toBe('CANARY-P3');
    });
  });

  it('record ids are bound by default and can be turned off', async () => {
    await withFixture({}, async (f) => {
      const [a, b] = await f.Patient.create([canary('B1'), canary('B2')]);
      await f.raw.collection('patients').updateOne({ _id: b!._id }, { $set: { ssn: (await rawPatients(f))[0]!.ssn } });
      expect(await codeOf(f.Patient.findById(b!._id))).toBe('CIPHERTEXT_TAMPERED');
      expect((await f.Patient.findById(a!._id))!.ssn).toBe('CANARY-B1');
    });
    await withFixture({ bindRecordId: false }, async (f) => {
      const [, b] = await f.Patient.create([canary('B3'), canary('B4')]);
      await f.raw.collection('patients').updateOne({ _id: b!._id }, { $set: { ssn: (await rawPatients(f))[0]!.ssn } });
      expect((await f.Patient.findById(b!._id))!.ssn).toBe('CANARY-B3');
      await f.Patient.updateMany({}, { $set: { email: 'canary-same@example.test' } });
      expect(await f.Patient.countDocuments({ email: 'canary-same@example.test' })).toBe(2);
    });
  });
});
