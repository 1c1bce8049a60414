// The entity of the re-encryption workers bench, declared without decorator syntax so the plain
// Node worker processes load the same model as the bench process.
import 'reflect-metadata';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Encrypted } from '@keystrata/typeorm';

/** One row of a tenant's table: an integer key, the tenant, one encrypted value. */
export class Ledger {}
PrimaryColumn('integer')(Ledger.prototype, 'id');
Column('text')(Ledger.prototype, 'tenantId');
Encrypted()(Ledger.prototype, 'value');
Column('text')(Ledger.prototype, 'value');
Entity()(Ledger);
