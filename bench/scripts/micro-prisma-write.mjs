// The Prisma adapter's own per-row work, core call stubbed: createMany's walk (ids generated), scratch
// rows and copy-back of envelopes, and the last-line envelope guard over a 10,000-row result; best of
// 36 rounds in CPU time. To compare two builds, run each in its own process (see
// micro-typeorm-write.mjs):  node scripts/micro-prisma-write.mjs ../packages/prisma/dist-old
import { resolve } from 'node:path';
import { KeyHierarchy } from '@keystrata/core';
import { MemoryKeyStore, SoftwareRootKey } from '@keystrata/core/testing';
const dist = resolve(process.argv[2] ?? new URL('../../packages/prisma/dist', import.meta.url).pathname);
const { KeystrataRuntime } = await import(`${dist}/extension/runtime.js`);
const { walkCreate } = await import(`${dist}/write/walk.js`);
const { newWrites } = await import(`${dist}/write/nodes.js`);
const { encryptWrites } = await import(`${dist}/write/encrypt-writes.js`);
const { assertNoEnvelope } = await import(`${dist}/result/envelope-guard.js`);
const fieldMap = {
  version: 1,
  models: {
    Patient: {
      encrypted: [{ field: 'ssn' }, { field: 'email', index: 'emailIndex' }],
      id: { field: 'id', type: 'String', strategy: 'cuid' },
      scalars: { id: 'String', seq: 'Int', tenantId: 'String', ssn: 'String', email: 'String', emailIndex: 'String' },
      relations: {},
    },
  },
};
const hierarchy = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore() });
const rt = new KeystrataRuntime({ hierarchy, fieldMap, segment: { by: 'tenant', field: 'tenantId' } }, undefined);
rt.records.encrypt = async (_model, rows) => {
  for (const r of rows) {
    r.email = 'ks1.x';
    r.emailIndex = 'bi1.y';
    r.ssn = 'ks1.z';
  }
};
const mk = () => Array.from({ length: 10000 }, (_, i) => ({ seq: i, tenantId: `t${i % 100}`, email: `e${i}`, ssn: `s${i}` }));
const best = { write: Infinity, guard: Infinity };
for (let r = 0; r < 40; r++) {
  const rows = mk();
  const c0 = process.cpuUsage();
  const writes = newWrites();
  for (const data of rows) {
    const p = walkCreate(rt, 'Patient', data, writes);
    if (p !== undefined) await p;
  }
  await encryptWrites(rt, writes.creates, []);
  const c1 = process.cpuUsage(c0);
  const result = rows.map((row) => ({ ...row, email: 'patient@example.org', ssn: '123-45-6789', emailIndex: 'bi1.abc' }));
  const c2 = process.cpuUsage();
  assertNoEnvelope(result, 'Patient.findMany');
  const c3 = process.cpuUsage(c2);
  if (r >= 4) {
    best.write = Math.min(best.write, (c1.user + c1.system) / 20000);
    best.guard = Math.min(best.guard, (c3.user + c3.system) / 20000);
  }
}
console.log(`${dist}: createMany walk + scratch + copy-back ${best.write.toFixed(3)} µs/field, result guard ${best.guard.toFixed(3)} µs/field (best of 36, CPU time)`);
await hierarchy.close();
