import { KeyHierarchy } from '@keystrata/core';
import type { SegmentPolicy } from '@keystrata/core/adapter';
import type { Db, MongoClient } from 'mongodb';
import { Schema, type Connection, type Model } from 'mongoose';
import { keystrata, MongoKeyStore, type KeystrataPluginOptions } from '../../src/index.js';
import { freshDbName, openConnection, openRawClient } from './mongo.js';
import { breakable, openRootKey, type BreakableRootKey } from './root-key.js';

/** A patient as tests write it. */
export interface PatientFields {
  tenantId?: string;
  ssn?: string | null;
  email?: string | null;
  name?: string;
  age?: number;
}

/** One test's world: a fresh database, key store and hierarchy in it, the Patient model, raw access. */
export interface Fixture {
  readonly connection: Connection;
  readonly hierarchy: KeyHierarchy;
  readonly rootKey: BreakableRootKey;
  readonly Patient: Model<PatientFields>;
  readonly raw: Db;
  readonly dbName: string;
  teardown(): Promise<void>;
}

/** The conformance model plus a validator, a lowercase setter and plain fields. */
export function patientSchema(): Schema<PatientFields> {
  return new Schema({
    tenantId: String,
    ssn: { type: String, encrypted: true, validate: { validator: (v: string) => /^[A-Za-z0-9-]+$/.test(v), message: 'ssn format' } },
    email: { type: String, encrypted: { index: 'emailIndex' }, lowercase: true, trim: true },
    emailIndex: { type: String, index: true },
    name: String,
    age: Number,
  }) as unknown as Schema<PatientFields>;
}

/** Opens a fixture; `plugin` overrides plugin options (segment policy etc.). */
export async function openFixture(plugin: Partial<KeystrataPluginOptions> = {}, schema = patientSchema()): Promise<Fixture> {
  const dbName = freshDbName();
  const connection = await openConnection(dbName);
  const rootKey = breakable(await openRootKey());
  const hierarchy = await KeyHierarchy.create({ rootKey, keyStore: new MongoKeyStore(connection.db!), cmkLabelPrefix: `mongoose-${Math.random().toString(36).slice(2)}` });
  await hierarchy.provision();
  await hierarchy.provision('other');
  const segment: SegmentPolicy = { by: 'tenant', field: 'tenantId' };
  schema.plugin(keystrata, { hierarchy, segment, ...plugin });
  const Patient = connection.model<PatientFields>('Patient', schema);
  const client: MongoClient = await openRawClient();
  return {
    connection,
    hierarchy,
    rootKey,
    Patient,
    raw: client.db(dbName),
    dbName,
    async teardown() {
      hierarchy.clearCache();
      await rootKey.close();
      await client.close();
      await connection.dropDatabase(); // tidy on a shared MONGODB_URI server
      await connection.close();
    },
  };
}

/** The stored documents of the patients collection, read with the plain mongodb driver. */
export async function rawPatients(f: Fixture): Promise<Record<string, unknown>[]> {
  return f.raw.collection('patients').find({}).sort({ _id: 1 }).toArray();
}
