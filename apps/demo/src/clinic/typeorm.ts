import 'reflect-metadata';
import type { KeyHierarchy } from '@keystrata/core';
import { Encrypted, EncryptedModel, installKeystrata, type KeystrataTypeorm } from '@keystrata/typeorm';
import { Column, DataSource, Entity, PrimaryColumn } from 'typeorm';
import { keyringOf, segmentOf } from './data.js';

/** The same table Prisma writes, seen by another team's TypeORM service. */
@EncryptedModel('Patient')
@Entity('Patient')
export class PatientEntity {
  @PrimaryColumn('text') id!: string;
  @Column('text') tenantId!: string;
  @Column('text') name!: string;
  @Encrypted() @Column('text') ssn!: string;
  @Encrypted() @Column('text') diagnosis!: string;
  @Encrypted({ index: 'emailIndex' }) @Column('text') email!: string;
  @Column('text', { nullable: true }) emailIndex?: string | null;
}

/** Opens TypeORM on the clinic's SQLite file with Keystrata installed (same keys, same hierarchy). */
export async function clinicTypeorm(file: string, hierarchy: KeyHierarchy): Promise<{ dataSource: DataSource; keystrata: KeystrataTypeorm }> {
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: file,
    entities: [PatientEntity],
    synchronize: false,
    prepareDatabase: (db: { pragma(s: string): unknown }) => void db.pragma('busy_timeout = 5000'),
  });
  await dataSource.initialize();
  const keystrata = await installKeystrata(dataSource, {
    hierarchy,
    segment: segmentOf,
    keyring: ({ record }) => keyringOf(record.tenantId),
  });
  return { dataSource, keystrata };
}
