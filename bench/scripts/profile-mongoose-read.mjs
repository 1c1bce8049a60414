// CPU-profile driver for the Mongoose read path (W2): find() of 10,000 hydrated documents through
// the keystrata plugin vs a plain model, on MONGODB_URI (e.g. a FerretDB started by hand).
// SoftwareRootKey + MemoryKeyStore: the warm read path never touches them.
//   MONGODB_URI=mongodb://127.0.0.1:PORT/ node --cpu-prof --cpu-prof-dir=/tmp/ks-prof scripts/profile-mongoose-read.mjs
import { performance } from 'node:perf_hooks';
import mongoose, { Schema } from 'mongoose';
import { KeyHierarchy } from '@keystrata/core';
import { MemoryKeyStore, SoftwareRootKey } from '@keystrata/core/testing';
import { keystrata } from '@keystrata/mongoose';

const pad = (n, w) => String(n).padStart(w, '0');
const conn = await mongoose.createConnection(process.env.MONGODB_URI, { dbName: `prof_${Date.now()}` }).asPromise();
const hierarchy = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore(), cache: { maxAgeMs: 3_600_000 } });
await hierarchy.provision();
const schema = new Schema({ seq: Number, tenantId: String, email: { type: String, encrypted: { index: 'emailIndex' } }, emailIndex: String, ssn: { type: String, encrypted: true } });
schema.plugin(keystrata, { hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
const Ks = conn.model('Patient', schema);
const Plain = conn.model('PlainPatient', new Schema({ seq: Number, tenantId: String, email: String, emailIndex: String, ssn: String }), 'patients');
for (let b = 0; b < 20; b++) {
  await Ks.insertMany(
    Array.from({ length: 500 }, (_, i) => {
      const s = b * 500 + i;
      return { seq: s, tenantId: `t${pad(s % 100, 3)}`, email: `patient.${pad(s, 6)}@tenant-${pad(s % 1000, 3)}.clinic.example`, ssn: `SSN ${pad(s, 30)}` };
    }),
  );
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, run] of [
  ['plain find (ciphertext)', () => Plain.find()],
  ['keystrata find', () => Ks.find()],
  ['plain find lean', () => Plain.find().lean()],
  ['keystrata find lean', () => Ks.find().lean()],
]) {
  const s = [];
  for (let i = 0; i < 8; i++) {
    const t = performance.now();
    await run();
    s.push(performance.now() - t);
  }
  console.log(name.padEnd(26), median(s).toFixed(0), 'ms');
}
await conn.dropDatabase();
await conn.close();
await hierarchy.close();
