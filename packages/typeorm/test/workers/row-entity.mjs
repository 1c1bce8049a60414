// The entity of the issue 15 §2 worker tests and bench, declared without decorator syntax so plain
// Node processes (workers, the application writer) load the same model as the test.
import 'reflect-metadata';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Encrypted } from '../../dist/index.js';

/** One row of a tenant's table: an integer key, the tenant, one encrypted value. */
export class Ledger {}
PrimaryColumn('integer')(Ledger.prototype, 'id');
Column('text')(Ledger.prototype, 'tenantId');
Encrypted()(Ledger.prototype, 'value');
Column('text')(Ledger.prototype, 'value');
Entity()(Ledger);
