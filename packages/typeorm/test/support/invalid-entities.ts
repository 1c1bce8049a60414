import 'reflect-metadata';
import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { Encrypted, EncryptedModel } from '../../src/index.js';

@Entity()
export class IntegerColumn {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Encrypted() @Column('integer') age!: number;
}

@Entity()
export class WithTransformer {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Encrypted() @Column('text', { transformer: { to: (v: string) => v, from: (v: string) => v } }) ssn!: string;
}

export class Address {
  @Encrypted() @Column('text') street!: string;
}

@Entity()
export class WithEmbedded {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column(() => Address) address!: Address;
}

@Entity()
export class CompositeKey {
  @PrimaryColumn('text') a!: string;
  @PrimaryColumn('text') b!: string;
  @Encrypted() @Column('text') ssn!: string;
}

@Entity()
export class NotAColumn {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Encrypted() ssn!: string;
}

@Entity()
export class MissingIndex {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Encrypted({ index: 'nowhere' }) @Column('text') email!: string;
}

@EncryptedModel('Same')
@Entity()
export class SameA {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Encrypted() @Column('text') ssn!: string;
}

@EncryptedModel('Same')
@Entity()
export class SameB {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Encrypted() @Column('text') ssn!: string;
}
