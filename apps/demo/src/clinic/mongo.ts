import { KeyHierarchy, type RootKey } from '@keystrata/core';
import { keystrata, MongoKeyStore } from '@keystrata/mongoose';
import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { keyringOf, segmentOf, TENANTS } from './data.js';
import { startMongo, type MongoServer } from './ferretdb.js';

/** The Mongoose service of the clinic: its own database, its own key store next to the data. */
export interface ClinicMongo {
  readonly server: MongoServer;
  readonly connection: Connection;
  readonly hierarchy: KeyHierarchy;
  readonly Patient: Model<{ tenantId: string; name: string; ssn: string; diagnosis: string; email: string; emailIndex?: string }>;
  close(): Promise<void>;
}

/** Starts (or connects to) the MongoDB server and opens the plugin-equipped model; undefined if no server. */
export async function clinicMongo(dir: string, rootKey: RootKey): Promise<ClinicMongo | undefined> {
  const server = await startMongo(dir);
  if (server === undefined) {
    await rootKey.close();
    return undefined;
  }
  let connection: Connection | undefined;
  for (let attempt = 0; connection === undefined; attempt++) {
    try {
      connection = await mongoose.createConnection(server.uri, { dbName: `clinic_${process.pid}`, serverSelectionTimeoutMS: 2000 }).asPromise();
    } catch (error) {
      if (attempt >= 20) {
        await server.stop();
        await rootKey.close();
        throw error;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const hierarchy = await KeyHierarchy.create({ rootKey, keyStore: new MongoKeyStore(connection.db!), cmkLabelPrefix: 'keystrata-cmk-mongo' });
  await hierarchy.provision();
  for (const tenant of TENANTS) await hierarchy.provision(keyringOf(tenant));
  const schema = new Schema({
    tenantId: String,
    name: String,
    ssn: { type: String, encrypted: true },
    diagnosis: { type: String, encrypted: true },
    email: { type: String, encrypted: { index: 'emailIndex' } },
    emailIndex: { type: String, index: true },
  });
  schema.plugin(keystrata, { hierarchy, segment: segmentOf, keyring: ({ record }) => keyringOf(record.tenantId) });
  const Patient = connection.model('Patient', schema) as ClinicMongo['Patient'];
  return {
    server,
    connection,
    hierarchy,
    Patient,
    async close() {
      await hierarchy.close(); // its root key too
      await connection!.close();
      await server.stop();
    },
  };
}
