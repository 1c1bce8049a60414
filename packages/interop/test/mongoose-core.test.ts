import type {} from '@keystrata/testing';
import { createSqliteDriver, KeyHierarchy, SqlKeyStore, type SqlDriver } from '@keystrata/core';
import { decodeEnvelope, envelopeDekId } from '@keystrata/core/adapter';
import { keystrata, MongoKeyStore } from '@keystrata/mongoose';
import { MongoClient, type Db } from 'mongodb';
import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { codeOf, ENVELOPE } from './support/checks.js';
import { openRootKey } from './support/stack.js';

interface PatientDoc {
  tenantId: string;
  ssn: string;
  email: string;
  emailIndex?: string;
  address?: { street?: string; city?: string };
}

describe('a document saved through the Mongoose plugin opens with the core API', () => {
  let connection: Connection;
  let client: MongoClient;
  let raw: Db;
  let hierarchy: KeyHierarchy;
  let Patient: Model<PatientDoc>;

  beforeEach(async () => {
    const dbName = `ks_interop_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    connection = await mongoose.createConnection(inject('mongodbUri'), { dbName, serverSelectionTimeoutMS: 10_000 }).asPromise();
    client = await new MongoClient(inject('mongodbUri'), { serverSelectionTimeoutMS: 10_000 }).connect();
    raw = client.db(dbName);
    // One hierarchy: the keys live in the same database (MongoKeyStore), under the run's SoftHSM2 token.
    hierarchy = await KeyHierarchy.create({ rootKey: await openRootKey(), keyStore: new MongoKeyStore(connection.db!), cmkLabelPrefix: `interop-${Math.random().toString(36).slice(2)}` });
    await hierarchy.provision();
    const schema = new Schema<PatientDoc>({
      tenantId: String,
      ssn: { type: String, encrypted: true },
      email: { type: String, encrypted: { index: 'emailIndex' } },
      emailIndex: { type: String, index: true },
      address: { street: { type: String, encrypted: true }, city: String },
    });
    schema.plugin(keystrata, { hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
    Patient = connection.model<PatientDoc>('Patient', schema);
  });
  afterEach(async () => {
    await hierarchy.close();
    await connection.dropDatabase();
    await connection.close();
    await client.close();
  });

  it('decrypts the stored envelopes with hierarchy.decryptValue under { model, field path, String(_id), segment }', async () => {
    const doc = await Patient.create({ tenantId: 'north', ssn: 'canary-ssn-m', email: 'canary-m@example.test', address: { street: 'canary street 1', city: 'Oslo' } });
    const other = await Patient.create({ tenantId: 'north', ssn: 'canary-ssn-other', email: 'canary-other@example.test' });
    const stored = await raw.collection('patients').findOne({ _id: doc._id });
    expect(stored).not.toBeNull();
    expect(JSON.stringify(stored).toLowerCase()).not.toContain('canary');

    // What the plugin binds into each value's AAD: the Mongoose model name ('Patient', the name
    // passed to connection.model(); the plugin's `model` option would override it), the schema
    // path as a dotted string ('ssn', 'address.street'), the record id String(doc._id) (the
    // ObjectId's 24-hex-character form), and the segment from the policy ('tenantId:north').
    const context = (field: string) => ({ model: 'Patient', field, recordId: String(stored!._id), segment: 'tenantId:north' });
    const values = { ssn: stored!.ssn, email: stored!.email, 'address.street': stored!.address?.street } as Record<string, unknown>;
    for (const [field, value] of Object.entries(values)) {
      expect(value, field).toMatch(ENVELOPE);
      expect(decodeEnvelope(value).flags & 0x01, `${field} is record-bound`).toBe(0x01);
    }
    expect(await hierarchy.decryptValue(values.ssn, context('ssn'))).toBe('canary-ssn-m');
    expect(await hierarchy.decryptValue(values.email, context('email'))).toBe('canary-m@example.test');
    expect(await hierarchy.decryptValue(values['address.street'], context('address.street'))).toBe('canary street 1');
    expect(stored!.address?.city).toBe('Oslo');
    // The blind index is core's too.
    expect(stored!.emailIndex).toBe(await hierarchy.blindIndex('canary-m@example.test', { model: 'Patient', field: 'email' }));

    // Each part of the context matters: another record, path, model or segment does not open it.
    expect(await codeOf(hierarchy.decryptValue(values.ssn, { ...context('ssn'), recordId: String(other._id) }))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(hierarchy.decryptValue(values['address.street'], context('street')))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(hierarchy.decryptValue(values.ssn, { ...context('ssn'), model: 'patients' }))).toBe('CIPHERTEXT_TAMPERED');
    expect(await codeOf(hierarchy.decryptValue(values.ssn, { ...context('ssn'), segment: 'tenantId:south' }))).toBe('CIPHERTEXT_TAMPERED');

    // And the reverse: a value core sealed under that context, written with the driver, reads through the plugin.
    const sealed = await hierarchy.encryptValue('canary-ssn-from-core', context('ssn'));
    await raw.collection('patients').updateOne({ _id: doc._id }, { $set: { ssn: sealed } });
    expect((await Patient.findById(doc._id).lean())?.ssn).toBe('canary-ssn-from-core');
  });

  it('keeps the DEK in keystrata_dek with the fields of the SQL key store columns', async () => {
    const doc = await Patient.create({ tenantId: 'south', ssn: 'canary-ssn-k', email: 'canary-k@example.test' });
    const stored = await raw.collection('patients').findOne({ _id: doc._id });
    const dek = await raw.collection('keystrata_dek').findOne({ _id: envelopeDekId(stored!.ssn) as never });
    expect(dek).toMatchObject({ keyring: 'default', segment: 'tenantId:south', version: 1, state: 'primary' });

    // The SQL layout (core SqlKeyStore, as Prisma, TypeORM and the CLI use it): same names, with _id as id.
    let driver: SqlDriver | undefined;
    try {
      driver = await createSqliteDriver({ database: ':memory:' });
      await new SqlKeyStore(driver).migrate();
      const columns = (await driver.all<{ name: string }>('PRAGMA table_info(keystrata_dek)')).map((c) => c.name).sort();
      const fields = Object.keys(dek!)
        .map((k) => (k === '_id' ? 'id' : k))
        .sort();
      expect(fields).toEqual(columns);
    } finally {
      await driver?.close();
    }
  });
});
