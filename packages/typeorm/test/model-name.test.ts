import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { RecordEncryptor } from '@keystrata/core/adapter';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Encrypted, EncryptedModel } from '../src/index.js';
import { KINDS, openStack, type Stack } from './support/stack.js';

/** A TypeORM entity reading the rows another adapter's model `Patient` writes. */
@EncryptedModel('Patient')
@Entity('patient_rows')
class PatientRow {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') tenantId!: string;
  @Encrypted() @Column('text') ssn!: string;
  @Encrypted({ index: 'emailIndex' }) @Column('text') email!: string;
  @Column('text', { nullable: true, unique: true }) emailIndex?: string;
}

describe.each(KINDS)('logical model names on %s', (kind) => {
  let s: Stack;
  beforeEach(async () => {
    s = await openStack(kind, {}, [PatientRow]);
  });
  afterEach(async () => {
    await s.close();
  });

  it('binds the configured model name, so the core (and other adapters) read what TypeORM wrote', async () => {
    expect(s.keystrata.modelOf(PatientRow)).toBe('Patient');
    const row = await s.dataSource.getRepository(PatientRow).save({ tenantId: 't1', ssn: '123-45-6789', email: 'ada@example.test' });
    const [stored] = await s.raw.all('SELECT * FROM patient_rows');
    const context = { model: 'Patient', field: 'ssn', recordId: row.id, segment: 'tenantId:t1' };
    expect(await s.keystrata.hierarchy.decryptValue(stored!.ssn, context)).toBe('123-45-6789');
    expect(stored!.emailIndex).toBe(await s.keystrata.hierarchy.blindIndex('ada@example.test', { model: 'Patient', field: 'email' }));
  });

  it('reads rows encrypted for model Patient by another writer with the same keys', async () => {
    const other = new RecordEncryptor({
      hierarchy: s.keystrata.hierarchy,
      segment: { by: 'tenant', field: 'tenantId' },
      models: { Patient: { fields: [{ field: 'ssn' }, { field: 'email', index: 'emailIndex' }] } },
    });
    const written = { id: randomUUID(), tenantId: 't1', ssn: '987-65-4321', email: 'bob@example.test' };
    await other.encrypt('Patient', [written]);
    await s.raw.run('INSERT INTO patient_rows (id, "tenantId", ssn, email, "emailIndex") VALUES (?, ?, ?, ?, ?)', Object.values(written));
    expect(await s.dataSource.getRepository(PatientRow).findOneByOrFail({ email: 'bob@example.test' })).toMatchObject({ id: written.id, ssn: '987-65-4321' });
  });
});
