/**
 * Microseconds per encrypted field on a 10,000-row `find()` (2 encrypted fields per row): the same
 * rows read through a DataSource with Keystrata installed and through plain TypeORM, interleaved
 * after a warm-up; medians of several runs. Run: `pnpm --filter @keystrata/typeorm bench`.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { it } from 'vitest';
import { Encrypted } from '../src/index.js';
import { freshDatabase, openRootKey, type Kind } from '../test/support/stack.js';
import { installKeystrata } from '../src/index.js';

const ROWS = 10_000;
const WARMUP = 3;
const RUNS = 11;

@Entity('bench_patient') class EncryptedPatient {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') tenantId!: string;
  @Encrypted() @Column('text') ssn!: string;
  @Encrypted({ index: 'emailIndex' }) @Column('text') email!: string;
  @Column('text', { nullable: true }) emailIndex?: string;
}

@Entity('bench_patient') class PlainPatient {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') tenantId!: string;
  @Column('text') ssn!: string;
  @Column('text') email!: string;
  @Column('text', { nullable: true }) emailIndex?: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed(run: () => Promise<unknown[]>): Promise<number> {
  const started = performance.now();
  const rows = await run();
  if (rows.length !== ROWS) throw new Error(`expected ${ROWS} rows, got ${rows.length}`);
  return performance.now() - started;
}

async function measure(kind: Kind): Promise<void> {
  const db = await freshDatabase(kind);
  const encrypted = await new DataSource({ ...db, entities: [EncryptedPatient], synchronize: true }).initialize();
  const plain = await new DataSource({ ...db, entities: [PlainPatient] }).initialize();
  const keystrata = await installKeystrata(encrypted, { rootKey: await openRootKey(), segment: { by: 'tenant', field: 'tenantId' } });
  const repo = encrypted.getRepository(EncryptedPatient);
  for (let i = 0; i < ROWS; i += 500) {
    await repo.insert(Array.from({ length: 500 }, (_, j) => ({ tenantId: `t${(i + j) % 10}`, ssn: `123-45-${String(i + j).padStart(4, '0')}`, email: `p${i + j}@example.test` })));
  }
  const withKeystrata = () => repo.find();
  const withoutKeystrata = () => plain.getRepository(PlainPatient).find();
  for (let i = 0; i < WARMUP; i++) { await timed(withKeystrata); await timed(withoutKeystrata); }
  const ks: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ks.push(await timed(withKeystrata));
    base.push(await timed(withoutKeystrata));
  }
  const [k, b] = [median(ks), median(base)];
  console.log(`${kind}: find() of ${ROWS} rows, median of ${RUNS}: plain TypeORM ${b.toFixed(1)} ms, with Keystrata ${k.toFixed(1)} ms; ` +
    `overhead ${((k - b) * 1000 / (ROWS * 2)).toFixed(2)} µs per encrypted field (${(k * 1000 / (ROWS * 2)).toFixed(2)} µs per field all-in)`);
  await keystrata.close();
  await plain.destroy();
  await encrypted.destroy();
}

it('find() cost per encrypted field: SQLite and PostgreSQL', async () => {
  await measure('sqlite');
  await measure('postgres');
});
