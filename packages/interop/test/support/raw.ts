// Shared with every adapter's tests.
export { sqliteRaw, postgresRaw, type RawDb } from '@keystrata/testing';
