import 'reflect-metadata';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Encrypted, EncryptedModel } from '@keystrata/typeorm';

/**
 * The Prisma model `Patient` (prisma/*\/schema.prisma, table from sql/*.sql) seen from TypeORM:
 * the same table, the same logical model name (bound into every value's AAD and into the blind
 * index), the same property names (the field names bound into the AAD). Column types are explicit:
 * vitest strips types, so no design-time metadata reaches TypeORM.
 */
@EncryptedModel('Patient')
@Entity('Patient')
export class PatientRecord {
  /** Prisma's cuid() id is text; TypeORM writes pass their own ids. */
  @PrimaryColumn('text') id!: string;
  @Column('text') tenantId!: string;
  @Encrypted() @Column('text') ssn!: string;
  @Encrypted({ index: 'emailIndex' }) @Column('text') email!: string;
  @Column('text', { nullable: true, unique: true }) emailIndex?: string | null;
}
