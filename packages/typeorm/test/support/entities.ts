import 'reflect-metadata';
import { Column, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Encrypted } from '../../src/index.js';

/** A clinic owning patients (cascade insert/update). */
@Entity()
export class Clinic {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') tenantId!: string;
  @Encrypted() @Column('text') name!: string;
  @OneToMany(
    () => Patient,
    (p) => p.clinic,
    { cascade: true },
  )
  patients?: Relation<Patient>[];
}

/** The entity, plus a relation to its clinic and visits. */
@Entity()
export class Patient {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') tenantId!: string;
  @Encrypted() @Column('text') ssn!: string;
  @Encrypted({ index: 'emailIndex' }) @Column('text', { nullable: true }) email!: string | null;
  @Column('text', { nullable: true, unique: true }) emailIndex?: string | null;
  @Column('text', { nullable: true }) note?: string | null;
  @ManyToOne(
    () => Clinic,
    (c) => c.patients,
    { nullable: true },
  )
  clinic?: Relation<Clinic> | null;
  @OneToMany(
    () => Visit,
    (v) => v.patient,
    { cascade: true },
  )
  visits?: Relation<Visit>[];
}

/** Integer primary key: the id is unknown at write time, so values are bound to model + field + segment. */
@Entity()
export class Visit {
  @PrimaryGeneratedColumn('increment') id!: number;
  @Column('text') tenantId!: string;
  @Encrypted() @Column('text') diagnosis!: string;
  @ManyToOne(
    () => Patient,
    (p) => p.visits,
    { nullable: true, onDelete: 'CASCADE' },
  )
  patient?: Relation<Patient> | null;
}

/** No encrypted columns: TypeORM behaves exactly as without Keystrata. */
@Entity()
export class Memo {
  @PrimaryGeneratedColumn('increment') id!: number;
  @Column('text') body!: string;
}

export const ENTITIES = [Clinic, Patient, Visit, Memo];
