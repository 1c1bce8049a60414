/**
 * Microseconds per encrypted field on a 10,000-row `findMany` (2 encrypted fields per row): the
 * same rows read through the Keystrata-extended client and through the plain PrismaClient (which
 * returns the ciphertext as stored), interleaved after a warm-up; medians of several runs.
 * Run: `pnpm --filter @keystrata/prisma bench`.
 */
import { performance } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import { STACKS } from '../test/support/stacks.js';

const ROWS = 10_000;
const FIELDS = 2;
const WARMUP = 3;
const RUNS = 11;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed(run: () => Promise<unknown[]>): Promise<number> {
  const started = performance.now();
  const rows = await run();
  if (rows.length !== ROWS) throw new Error(`expected ${ROWS} rows, got ${rows.length}`);
  return performance.now() - started;
}

for (const [name, makeStack] of STACKS) {
  it(`findMany of ${ROWS} rows × ${FIELDS} encrypted fields on ${name}`, async () => {
    const s = await makeStack();
    for (let i = 0; i < ROWS; i += 500) {
      await s.db.patient.createMany({ data: Array.from({ length: 500 }, (_, j) => ({ tenantId: `t${(i + j) % 10}`, ssn: `123-45-${String(i + j).padStart(4, '0')}`, email: `p${i + j}@example.test` })) });
    }
    const plain = () => s.base.patient.findMany();
    const encrypted = () => s.db.patient.findMany();
    // The core's share: the plain read plus RecordEncryptor.decrypt on its rows, no adapter walk.
    const core = async () => { const rows = await s.base.patient.findMany(); await s.db.$keystrata.records.decrypt('Patient', rows); return rows; };
    for (let i = 0; i < WARMUP; i++) (await timed(plain), await timed(encrypted), await timed(core));
    const times = { plain: [] as number[], encrypted: [] as number[], core: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      times.plain.push(await timed(plain));
      times.encrypted.push(await timed(encrypted));
      times.core.push(await timed(core));
    }
    const [p, e, c] = [median(times.plain), median(times.encrypted), median(times.core)];
    const perField = (ms: number) => ((ms * 1000) / (ROWS * FIELDS)).toFixed(2);
    console.log(`[bench] prisma/${name}: plain ${p.toFixed(1)} ms (${perField(p)} µs/field), keystrata ${e.toFixed(1)} ms (${perField(e)} µs/field), overhead ${perField(e - p)} µs/field (core decrypt alone ${perField(c - p)} µs/field)`);
    expect(e).toBeGreaterThan(0);
    await s.close();
  });
}
