/**
 * Microseconds per encrypted field on a 10,000-row `find()` (2 encrypted fields per row): the same
 * rows read through a DataSource with Keystrata installed and through plain TypeORM, interleaved
 * after a warm-up; medians of several runs. Run: `pnpm --filter @keystrata/typeorm bench`.
 */
import 'reflect-metadata';
import { interleave } from '@keystrata/testing/measure';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { it } from 'vitest';
import { Encrypted } from '../src/index.js';
import { freshDatabase, openRootKey, type Kind } from '../test/support/stack.js';
import { installKeystrata } from '../src/index.js';

const ROWS = 10_000;
const WARMUP = 3;
const RUNS = 11;

@Entity('bench_patient')
class EncryptedPatient {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') tenantId!: string;
  @Encrypted() @Column('text') ssn!: string;
  @Encrypted({ index: 'emailIndex' }) @Column('text') email!: string;
  @Column('text', { nullable: true }) emailIndex?: string;
}

@Entity('bench_patient')
class PlainPatient {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') tenantId!: string;
  @Column('text') ssn!: string;
  @Column('text') email!: string;
  @Column('text', { nullable: true }) emailIndex?: string;
}

/** The read, failing unless it returned every one of the ROWS rows. */
const all = (read: () => Promise<unknown[]>) => async () => {
  const found = await read();
  if (found.length !== ROWS) throw new Error(`expected ${ROWS} rows, got ${found.length}`);
};

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
  const t = await interleave({ keystrata: all(withKeystrata), plain: all(withoutKeystrata) }, ROWS * 2, RUNS, WARMUP);
  const [k, b] = [t.keystrata!.medianMicros, t.plain!.medianMicros];
  console.log(
    `${kind}: find() of ${ROWS} rows, median of ${RUNS}: plain TypeORM ${b.toFixed(2)} µs/field, with Keystrata ${k.toFixed(2)} µs/field; ` + `overhead ${(k - b).toFixed(2)} µs per encrypted field`,
  );
  await keystrata.close();
  await plain.destroy();
  await encrypted.destroy();
}

it('find() cost per encrypted field: SQLite and PostgreSQL', async () => {
  await measure('sqlite');
  await measure('postgres');
});
