import { UnreadableValue } from '@keystrata/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf } from './support/checks.js';
import { openFixture, rawPatients, type Fixture } from './support/fixture.js';

const canary = (tag: string, tenantId = 'acme') => ({ tenantId, ssn: `CANARY-${tag}`, email: `canary-${tag.toLowerCase()}@example.test`, name: tag });
const errorText = async (work: PromiseLike<unknown>): Promise<string> =>
  Promise.resolve(work).then(
    () => '',
    (e: Error & { toJSON?: () => unknown }) => `${e.message} ${JSON.stringify(e.toJSON?.() ?? {})} ${String(e.stack)}`,
  );

describe('fails closed', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture();
  });
  afterEach(async () => {
    await f.teardown();
  });

  it('HSM unreachable: every write path throws HSM_UNAVAILABLE and writes nothing', async () => {
    const doc = await f.Patient.create(canary('HSM'));
    const before = JSON.stringify(await rawPatients(f));
    await f.rootKey.break();
    f.hierarchy.clearCache();
    const writes = {
      create: () => f.Patient.create(canary('HSM-NEW')),
      insertMany: () => f.Patient.insertMany([canary('HSM-IM')]),
      bulkWrite: () => f.Patient.bulkWrite([{ insertOne: { document: canary('HSM-BW') } }]),
      updateOne: () => f.Patient.updateOne({ _id: doc._id }, { $set: { ssn: 'CANARY-HSM-U' } }),
      updateMany: () => f.Patient.updateMany({}, { $set: { ssn: 'CANARY-HSM-M' } }),
      replaceOne: () => f.Patient.replaceOne({ _id: doc._id }, canary('HSM-R')),
    };
    for (const [name, write] of Object.entries(writes)) expect(await codeOf(write()), name).toBe('HSM_UNAVAILABLE');
    expect(await codeOf(f.Patient.findById(doc._id))).toBe('HSM_UNAVAILABLE');
    expect(JSON.stringify(await rawPatients(f))).toBe(before);
  });

  it('revoked key: reads and writes of that tenant throw KEY_DISABLED, others work; nothing written', async () => {
    const a = await f.Patient.create(canary('REV'));
    const b = await f.Patient.create(canary('OTHER', 'globex'));
    await f.hierarchy.disable({ kind: 'segment', segment: 'tenantId:acme' });
    const before = JSON.stringify(await rawPatients(f));
    expect(await codeOf(f.Patient.findById(a._id))).toBe('KEY_DISABLED');
    expect(await codeOf(f.Patient.find().lean())).toBe('KEY_DISABLED');
    expect(await codeOf(f.Patient.create(canary('REV-NEW')))).toBe('KEY_DISABLED');
    expect(await codeOf(f.Patient.updateOne({ _id: a._id }, { ssn: 'CANARY-REV-2' }))).toBe('KEY_DISABLED');
    expect(JSON.stringify(await rawPatients(f))).toBe(before);
    expect((await f.Patient.findById(b._id))!.ssn).toBe('CANARY-OTHER');
    await f.hierarchy.enable({ kind: 'segment', segment: 'tenantId:acme' });
    expect((await f.Patient.findById(a._id))!.ssn).toBe('CANARY-REV');
  });

  it('a value moved to another document or path, or edited, fails to decrypt', async () => {
    const [a, b] = await f.Patient.create([canary('MOVE-A'), canary('MOVE-B')]);
    const raw = f.raw.collection('patients');
    const stored = await raw.findOne({ _id: a!._id });
    await raw.updateOne({ _id: b!._id }, { $set: { email: stored!.email } });
    expect(await codeOf(f.Patient.findById(b!._id))).toBe('CIPHERTEXT_TAMPERED');
    await raw.updateOne({ _id: a!._id }, { $set: { ssn: stored!.email } });
    expect(await codeOf(f.Patient.findById(a!._id).lean())).toBe('CIPHERTEXT_TAMPERED');
    await raw.updateOne({ _id: a!._id }, { $set: { ssn: 'CANARY-plaintext' } });
    expect(await codeOf(f.Patient.findById(a!._id))).toBe('CIPHERTEXT_MALFORMED');
  });

  it("onUnreadable: 'placeholder' puts UnreadableValue in place; writing it back is refused", async () => {
    const g = await openFixture({ onUnreadable: 'placeholder' });
    try {
      const [a, b] = await g.Patient.create([canary('PH-A'), canary('PH-B', 'globex')]);
      await g.hierarchy.disable({ kind: 'segment', segment: 'tenantId:acme' });
      const docs = await g.Patient.find().sort({ name: 1 });
      expect(UnreadableValue.isInstance(docs[0]!.ssn)).toBe(true);
      expect(docs[1]!.ssn).toBe('CANARY-PH-B');
      expect(String(docs[0]!.ssn)).toBe('[unreadable: KEY_DISABLED]');
      docs[0]!.tenantId = 'globex';
      expect(await codeOf(docs[0]!.save())).toBe('PLAINTEXT_REJECTED');
      expect(String((await g.raw.collection('patients').findOne({ _id: a!._id }))!.tenantId)).toBe('acme');
      expect(b!._id).toBeDefined();
    } finally {
      await g.teardown();
    }
  });

  it('errors never carry plaintext', async () => {
    const doc = await f.Patient.create(canary('LEAK'));
    const texts = [
      await errorText(f.Patient.find({ ssn: 'CANARY-LEAK' })),
      await errorText(f.Patient.find({ email: { $gt: 'canary-leak@example.test' } })),
      await errorText(f.Patient.create({ ssn: 'CANARY-LEAK-NOTENANT' })),
      await errorText(f.Patient.updateOne({ _id: doc._id }, { $set: { tenantId: 'x', ssn: 'CANARY-LEAK-2' } })),
    ];
    await f.raw.collection('patients').updateOne({ _id: doc._id }, { $set: { ssn: 'CANARY-LEAK-stored' } });
    texts.push(await errorText(f.Patient.findById(doc._id)));
    await f.rootKey.break();
    f.hierarchy.clearCache();
    texts.push(await errorText(f.Patient.create(canary('LEAK-HSM'))));
    for (const text of texts) {
      expect(text).not.toBe('');
      expect(text.toLowerCase()).not.toContain('canary');
    }
  });
});
