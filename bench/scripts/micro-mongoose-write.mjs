// The Mongoose plugin's own per-document write work, core call stubbed: sealDocuments over 10,000
// new documents (paths to seal, blind-index check, values read, envelopes written back, plaintext
// kept) and restorePlaintext; best of 36 rounds in CPU time. No database: the documents are only
// built. Compare builds each in its own process (see micro-typeorm-write.mjs):
//   node scripts/micro-mongoose-write.mjs ../packages/mongoose/dist-old
import { resolve } from 'node:path';
import mongoose, { Schema } from 'mongoose';
import { KeyHierarchy } from '@keystrata/core';
import { MemoryKeyStore, SoftwareRootKey } from '@keystrata/core/testing';

const dist = resolve(process.argv[2] ?? new URL('../../packages/mongoose/dist', import.meta.url).pathname);
const { PluginState } = await import(`${dist}/plugin/state.js`);
const { sealDocuments, restorePlaintext } = await import(`${dist}/plugin/seal-documents.js`);
const hierarchy = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore() });
const schema = new Schema({ seq: Number, tenantId: String, email: { type: String, encrypted: { index: 'emailIndex' } }, emailIndex: String, ssn: { type: String, encrypted: true } });
const Patient = mongoose.model('Patient', schema);
const state = new PluginState({ hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
const ctx = await state.context(Patient);
ctx.records.encrypt = async (_model, rows) => {
  for (const row of rows) Object.assign(row, { email: 'ks1.x', emailIndex: 'bi1.y', ssn: 'ks1.z' });
};
const best = { seal: Number.POSITIVE_INFINITY, restore: Number.POSITIVE_INFINITY };
const micros = (from, to) => (to.user + to.system - from.user - from.system) / 20_000;
for (let r = 0; r < 40; r++) {
  const docs = Array.from({ length: 10_000 }, (_, i) => new Patient({ seq: i, tenantId: `t${i % 100}`, email: `e${i}`, ssn: `s${i}` }));
  const c0 = process.cpuUsage();
  await sealDocuments(ctx, docs);
  const c1 = process.cpuUsage();
  docs.forEach(restorePlaintext);
  const c2 = process.cpuUsage();
  if (docs[0].ssn !== 's0') throw new Error('not restored');
  if (r < 4) continue;
  best.seal = Math.min(best.seal, micros(c0, c1));
  best.restore = Math.min(best.restore, micros(c1, c2));
}
console.log(`${dist}: sealDocuments ${best.seal.toFixed(3)}, restorePlaintext ${best.restore.toFixed(3)} µs/field (best of 36, CPU time)`);
await hierarchy.close();
