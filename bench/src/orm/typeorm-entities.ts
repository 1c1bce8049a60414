/**
 * The TypeORM benchmark's entities, one table layout per variant (shared by typeorm.bench.ts and
 * the profile driver).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { EncryptionTransformer } from 'typeorm-encrypted';
import { Encrypted } from '@keystrata/typeorm';

/** Plain: an ordinary index on email for the equality baseline; emailIndex as in the keystrata table (NULL here). */
@Entity('patient')
export class PlainPatient {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index() @Column('integer') seq!: number;
  @Index() @Column('text') tenantId!: string;
  @Index() @Column('text') email!: string;
  @Column('text', { nullable: true, unique: true }) emailIndex?: string | null;
  @Column('text') ssn!: string;
}

/** The keystrata table seen without the adapter (another DataSource on the same file): envelopes as stored. */
@Entity('patient')
export class StoredPatient {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('integer') seq!: number;
  @Column('text') tenantId!: string;
  @Column('text') email!: string;
  @Column('text', { nullable: true }) emailIndex?: string;
  @Column('text') ssn!: string;
}

/** Keystrata: the README's model (blind index in emailIndex). */
@Entity('patient')
export class KsPatient {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index() @Column('integer') seq!: number;
  @Index() @Column('text') tenantId!: string;
  @Encrypted({ index: 'emailIndex' }) @Column('text') email!: string;
  @Column('text', { nullable: true, unique: true }) emailIndex?: string;
  @Encrypted() @Column('text') ssn!: string;
}

/** typeorm-encrypted with AES-256-GCM and a random IV per value (its secure configuration). */
const gcm = { key: randomBytes(32).toString('hex'), algorithm: 'aes-256-gcm', ivLength: 12, authTagLength: 16 };
@Entity('patient')
export class PeerPatient {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Index() @Column('integer') seq!: number;
  @Index() @Column('text') tenantId!: string;
  @Column({ type: 'text', transformer: new EncryptionTransformer(gcm) }) email!: string;
  @Column({ type: 'text', transformer: new EncryptionTransformer(gcm) }) ssn!: string;
}
