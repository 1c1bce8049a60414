import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { KeyHierarchy } from '@keystrata/core';
import type { FieldValue, RecordEncryptorOptions, SegmentPolicy } from '@keystrata/core/adapter';
import { withKeystrata, type ExtendablePrismaClient, type FieldMap, type KeystrataRuntime } from '@keystrata/prisma';

/** A Patient as Prisma returns it (decrypted); encrypted fields may be UnreadableValues with `onUnreadable: 'placeholder'`. */
interface PrismaPatient {
  id: string;
  tenantId: string;
  ssn: string;
  email: string;
  emailIndex: string | null;
}

type PatientInput = { id?: string; tenantId: string; ssn: string; email: string };
type PatientWhere = { id?: string; tenantId?: string; email?: string };

/**
 * The part of the generated, Keystrata-extended client these tests use. The generated client
 * (generated/<provider>/client, made by the global setup) is loaded at run time, so `lint` does not
 * depend on `prisma generate` having run; its real types are checked by @keystrata/prisma's tests.
 */
export interface PrismaDb {
  patient: {
    create(args: { data: PatientInput }): Promise<PrismaPatient>;
    createMany(args: { data: PatientInput[] }): Promise<{ count: number }>;
    update(args: { where: { id: string }; data: Partial<PatientInput> }): Promise<PrismaPatient>;
    findMany(args?: { where?: PatientWhere; orderBy?: { id: 'asc' | 'desc' } }): Promise<PrismaPatient[]>;
    findFirst(args: { where: PatientWhere }): Promise<PrismaPatient | null>;
    findUnique(args: { where: { id: string } }): Promise<PrismaPatient | null>;
  };
  $keystrata: KeystrataRuntime;
}

/** The generated client under the extension. */
export interface PrismaBase extends ExtendablePrismaClient {
  $disconnect(): Promise<void>;
}

type Provider = 'sqlite' | 'postgresql';

interface Generated {
  PrismaClient: new (options: { adapter: unknown }) => PrismaBase;
  fieldMap: FieldMap;
}

async function loadGenerated(provider: Provider): Promise<Generated> {
  const client = new URL(`../../generated/${provider}/client/client.ts`, import.meta.url).href;
  const keystrata = new URL(`../../generated/${provider}/keystrata/index.ts`, import.meta.url).href;
  const [{ PrismaClient }, { fieldMap }] = await Promise.all([import(/* @vite-ignore */ client), import(/* @vite-ignore */ keystrata)]);
  return { PrismaClient, fieldMap } as Generated;
}

/** A generated PrismaClient on a SQLite file (`file`) or a PostgreSQL database (`url`). */
export async function openPrismaBase(target: { sqlite: string } | { postgres: string }): Promise<{ base: PrismaBase; fieldMap: FieldMap }> {
  if ('sqlite' in target) {
    const { PrismaClient, fieldMap } = await loadGenerated('sqlite');
    return { base: new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${target.sqlite}` }) }), fieldMap };
  }
  const { PrismaClient, fieldMap } = await loadGenerated('postgresql');
  return { base: new PrismaClient({ adapter: new PrismaPg({ connectionString: target.postgres }) }), fieldMap };
}

/** Options of the Prisma side of a stack (the `withKeystrata` options the tests vary). */
export interface PrismaSideOptions {
  readonly keyring?: RecordEncryptorOptions['keyring'];
  readonly onUnreadable?: 'throw' | 'placeholder';
}

/** `withKeystrata` over a base client with the shared hierarchy and segment policy. */
export function extendPrisma(base: PrismaBase, fieldMap: FieldMap, hierarchy: KeyHierarchy, segment: SegmentPolicy, options: PrismaSideOptions = {}): PrismaDb {
  return withKeystrata(base, { hierarchy, fieldMap, segment, ...options }) as unknown as PrismaDb;
}

/** The blind index Prisma would query for `Patient.email = value`. */
export function prismaEmailIndex(db: PrismaDb, value: FieldValue): Promise<string> {
  return db.$keystrata.indexFor('Patient', 'email', value);
}
