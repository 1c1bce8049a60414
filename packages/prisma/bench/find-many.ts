/**
 * Microseconds per encrypted field on a 10,000-row `findMany` (2 encrypted fields per row): the
 * same rows read through the Keystrata-extended client and through the plain PrismaClient (which
 * returns the ciphertext as stored), interleaved after a warm-up; medians of several runs.
 * Run: `pnpm --filter @keystrata/prisma bench`.
 */
import { interleave } from '@keystrata/testing/measure';
import { expect, it } from 'vitest';
import { STACKS } from '../test/support/stacks.js';

const ROWS = 10_000;
const FIELDS = 2;
const WARMUP = 3;
const RUNS = 11;

/** The read, failing unless it returned every row. */
const allRows = (read: () => Promise<unknown[]>) => async () => {
  const rows = await read();
  if (rows.length !== ROWS) throw new Error(`expected ${ROWS} rows, got ${rows.length}`);
};

for (const [name, makeStack] of STACKS) {
  it(`findMany of ${ROWS} rows × ${FIELDS} encrypted fields on ${name}`, async () => {
    const s = await makeStack();
    for (let i = 0; i < ROWS; i += 500) {
      await s.db.patient.createMany({
        data: Array.from({ length: 500 }, (_, j) => ({ tenantId: `t${(i + j) % 10}`, ssn: `123-45-${String(i + j).padStart(4, '0')}`, email: `p${i + j}@example.test` })),
      });
    }
    const plain = () => s.base.patient.findMany();
    const encrypted = () => s.db.patient.findMany();
    // The core's share: the plain read plus RecordEncryptor.decrypt on its rows, no adapter walk.
    const core = async () => {
      const rows = await s.base.patient.findMany();
      await s.db.$keystrata.records.decrypt('Patient', rows);
      return rows;
    };
    const t = await interleave({ plain: allRows(plain), encrypted: allRows(encrypted), core: allRows(core) }, ROWS * FIELDS, RUNS, WARMUP);
    const [p, e, c] = [t.plain!.medianMicros, t.encrypted!.medianMicros, t.core!.medianMicros];
    console.log(
      `[bench] prisma/${name}: plain ${p.toFixed(2)} µs/field, keystrata ${e.toFixed(2)} µs/field, overhead ${(e - p).toFixed(2)} µs/field (core decrypt alone ${(c - p).toFixed(2)} µs/field)`,
    );
    expect(e).toBeGreaterThan(0);
    await s.close();
  });
}
