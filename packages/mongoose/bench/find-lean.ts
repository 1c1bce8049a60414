/**
 * Microseconds per encrypted field on a 10,000-document `find().lean()` (2 encrypted fields per
 * document): the same documents read through a model with the Keystrata plugin and through a
 * plain Mongoose model on the same collection, in one process, interleaved after a warm-up;
 * medians of several runs. Run: `pnpm --filter @keystrata/mongoose bench` (FerretDB, or MONGODB_URI).
 */
import { interleave } from '@keystrata/testing/measure';
import { KeyHierarchy } from '@keystrata/core';
import { Schema } from 'mongoose';
import { it } from 'vitest';
import { keystrata, MongoKeyStore } from '../src/index.js';
import { freshDbName, openConnection } from '../test/support/mongo.js';
import { openRootKey } from '../test/support/root-key.js';

const DOCS = 10_000;
const WARMUP = 3;
const RUNS = 11;

/** The read, failing unless it returned every one of the DOCS documents. */
const all = (read: () => Promise<unknown[]>) => async () => {
  const found = await read();
  if (found.length !== DOCS) throw new Error(`expected ${DOCS} documents, got ${found.length}`);
};

it('find().lean() cost per encrypted field', async () => {
  const connection = await openConnection(freshDbName('ks_bench'));
  const rootKey = await openRootKey();
  const hierarchy = await KeyHierarchy.create({ rootKey, keyStore: new MongoKeyStore(connection.db!), cmkLabelPrefix: `bench-${Date.now()}` });
  await hierarchy.provision();
  const encrypted = new Schema({ tenantId: String, ssn: { type: String, encrypted: true }, email: { type: String, encrypted: { index: 'emailIndex' } }, emailIndex: String });
  encrypted.plugin(keystrata, { hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
  const Encrypted = connection.model('Patient', encrypted, 'patients');
  const Plain = connection.model('PlainPatient', new Schema({ tenantId: String, ssn: String, email: String, emailIndex: String }), 'patients');
  for (let i = 0; i < DOCS; i += 1000) {
    await Encrypted.insertMany(Array.from({ length: 1000 }, (_, j) => ({ tenantId: `t${(i + j) % 10}`, ssn: `123-45-${String(i + j).padStart(4, '0')}`, email: `p${i + j}@example.test` })));
  }
  const withKeystrata = () => Encrypted.find().lean();
  const withoutKeystrata = () => Plain.find().lean();
  const t = await interleave({ keystrata: all(withKeystrata), plain: all(withoutKeystrata) }, DOCS * 2, RUNS, WARMUP);
  const [k, b] = [t.keystrata!.medianMicros, t.plain!.medianMicros];
  console.log(
    `find().lean() of ${DOCS} documents (2 encrypted fields), median of ${RUNS}: plain Mongoose ${b.toFixed(2)} µs/field, with Keystrata ${k.toFixed(2)} µs/field; ` +
      `overhead ${(k - b).toFixed(2)} µs per encrypted field`,
  );
  await hierarchy.close();
  await connection.dropDatabase();
  await connection.close();
});
