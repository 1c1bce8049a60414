// The TypeORM adapter's own per-row write work, core call stubbed: insertTarget per row, sealTargets'
// write-back of envelopes and blind indexes, and restore(), on 10,000 rows × 2 fields; best of 36
// rounds in CPU time. To compare two builds, run each in its own process (two builds in one process
// skew each other): build the old source into another folder of the package (e.g. dist-old, from
// `git archive <commit> packages/typeorm/src` and `tsc --outDir dist-old`), then
//   node scripts/micro-typeorm-write.mjs ../packages/typeorm/dist-old; node scripts/micro-typeorm-write.mjs ../packages/typeorm/dist
import { resolve } from 'node:path';

const dist = resolve(process.argv[2] ?? new URL('../../packages/typeorm/dist', import.meta.url).pathname);
const { insertTarget } = await import(`${dist}/write/targets.js`);
const { sealTargets } = await import(`${dist}/write/seal.js`);
const { restore } = await import(`${dist}/write/stash.js`);
const info = { model: 'Patient', metadata: {}, fields: [{ field: 'email', index: 'emailIndex' }, { field: 'ssn' }], idField: 'id', uuid: true };
const state = { generateUuids: true, records: { sealRecords: async (_model, targets) => targets.map(() => ({ email: 'ks1.x', emailIndex: 'bi1.y', ssn: 'ks1.z' })) } };
const rowsOf = () => Array.from({ length: 10_000 }, (_, i) => ({ seq: i, tenantId: `t${i % 100}`, email: `e${i}`, ssn: `s${i}` }));
const best = { targets: Infinity, writeBack: Infinity, restore: Infinity };
const micros = (from, to) => (to.user + to.system - from.user - from.system) / 20_000;
for (let r = 0; r < 40; r++) {
  const rows = rowsOf();
  const c0 = process.cpuUsage();
  const targets = rows.map((row) => insertTarget(state, info, row, true));
  const c1 = process.cpuUsage();
  await sealTargets(state, info, targets);
  const c2 = process.cpuUsage();
  rows.forEach(restore);
  const c3 = process.cpuUsage();
  if (r < 4) continue;
  best.targets = Math.min(best.targets, micros(c0, c1));
  best.writeBack = Math.min(best.writeBack, micros(c1, c2));
  best.restore = Math.min(best.restore, micros(c2, c3));
}
console.log(`${dist}: insertTarget ${best.targets.toFixed(3)}, sealTargets write-back ${best.writeBack.toFixed(3)}, restore ${best.restore.toFixed(3)} µs/field (best of 36, CPU time)`);
