/**
 * Microseconds per encrypted field on a 10,000-document `find().lean()` (2 encrypted fields per
 * document): the same documents read through a model with the Keystrata plugin and through a
 * plain Mongoose model on the same collection, in one process, interleaved after a warm-up;
 * medians of several runs. Run: `pnpm --filter @keystrata/mongoose bench` (FerretDB, or MONGODB_URI).
 */
import { performance } from 'node:perf_hooks';
import { KeyHierarchy } from '@keystrata/core';
import { Schema } from 'mongoose';
import { it } from 'vitest';
import { keystrata, MongoKeyStore } from '../src/index.js';
import { freshDbName, openConnection } from '../test/support/mongo.js';
import { openRootKey } from '../test/support/root-key.js';

const DOCS = 10_000;
const WARMUP = 3;
const RUNS = 11;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(run: () => Promise<unknown[]>): Promise<number> {
  const started = performance.now();
  const docs = await run();
  if (docs.length !== DOCS) throw new Error(`expected ${DOCS} documents, got ${docs.length}`);
  return performance.now() - started;
}

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
  for (let i = 0; i < WARMUP; i++) { await timed(withKeystrata); await timed(withoutKeystrata); }
  const ks: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ks.push(await timed(withKeystrata));
    base.push(await timed(withoutKeystrata));
  }
  const [k, b] = [median(ks), median(base)];
  console.log(`find().lean() of ${DOCS} documents (2 encrypted fields), median of ${RUNS}: plain Mongoose ${b.toFixed(1)} ms, with Keystrata ${k.toFixed(1)} ms; ` +
    `overhead ${((k - b) * 1000 / (DOCS * 2)).toFixed(2)} µs per encrypted field (${(k * 1000 / (DOCS * 2)).toFixed(2)} µs per field all-in)`);
  await hierarchy.close();
  await connection.dropDatabase();
  await connection.close();
});
