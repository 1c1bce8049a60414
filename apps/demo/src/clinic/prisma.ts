import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type { KeyHierarchy } from '@keystrata/core';
import { withKeystrata } from '@keystrata/prisma';
import { PrismaClient } from '../generated/prisma/client.js';
import { fieldMap } from '../generated/keystrata/index.js';
import { keyringOf, segmentOf } from './data.js';

/** The application's Prisma client with Keystrata: per-patient DEKs under the tenant's CMK. */
export function clinicPrisma(file: string, hierarchy: KeyHierarchy, onUnreadable: 'throw' | 'placeholder' = 'throw') {
  const base = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
  return withKeystrata(base, {
    hierarchy,
    fieldMap,
    onUnreadable,
    segment: segmentOf,
    keyring: ({ record }) => keyringOf(record.tenantId),
  });
}

/** The extended client's type. */
export type ClinicPrisma = ReturnType<typeof clinicPrisma>;
