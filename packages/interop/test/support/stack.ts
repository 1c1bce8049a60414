import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { inject } from 'vitest';
import { DataSource, type Repository } from 'typeorm';
import { createDatabase } from '@keystrata/testing';
import { createPostgresDriver, createSqliteDriver, KeyHierarchy, Pkcs11RootKey, SqlKeyStore } from '@keystrata/core';
import type { RecordEncryptorOptions, SegmentPolicy } from '@keystrata/core/adapter';
import { installKeystrata, type KeystrataTypeorm } from '@keystrata/typeorm';
import { PatientRecord } from './entities.js';
import { extendPrisma, openPrismaBase, type PrismaBase, type PrismaDb, type PrismaSideOptions } from './prisma.js';
import { postgresRaw, sqliteRaw, type RawDb } from './raw.js';

export type Kind = 'sqlite' | 'postgresql';
export const KINDS: readonly Kind[] = ['sqlite', 'postgresql'];

/** The segment policy both adapters use: one DEK per tenant, segment `tenantId:<value>`. */
const SEGMENT: SegmentPolicy = { by: 'tenant', field: 'tenantId' };

/** A root key on the run's SoftHSM2 token (global-setup-services). */
export function openRootKey(): Promise<Pkcs11RootKey> {
  const token = inject('softhsm');
  return Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
}

/** A TypeORM DataSource on the stack's database with Keystrata installed over the shared hierarchy. */
interface TypeormSide {
  readonly dataSource: DataSource;
  readonly keystrata: KeystrataTypeorm;
  readonly repo: Repository<PatientRecord>;
  close(): Promise<void>;
}

/**
 * One database (a SQLite file or a PostgreSQL database) holding the Patient table (committed SQL)
 * and the key store, ONE KeyHierarchy over it (SoftHSM2 root key + SqlKeyStore), and both
 * adapters over that hierarchy: Prisma (`keystrata: hierarchy`) and TypeORM (`hierarchy`).
 */
export interface Stack {
  readonly kind: Kind;
  /** SQLite file (sqlite) or database URL (postgresql). */
  readonly location: string;
  readonly hierarchy: KeyHierarchy;
  readonly prisma: PrismaDb;
  readonly typeorm: TypeormSide;
  readonly raw: RawDb;
  /** Another Prisma client over the same base and hierarchy, with other options. */
  extendPrisma(options?: PrismaSideOptions): PrismaDb;
  /** Another TypeORM DataSource on the same database and hierarchy, with other options (closed with the stack). */
  openTypeorm(options?: TypeormSideOptions): Promise<TypeormSide>;
  close(): Promise<void>;
}

/** Options of the TypeORM side (the `installKeystrata` options the tests vary). */
interface TypeormSideOptions {
  readonly keyring?: RecordEncryptorOptions['keyring'];
  readonly onUnreadable?: 'throw' | 'placeholder';
}

export interface StackOptions {
  /** Keyring option given to both adapters (a name, or a function of the record). */
  readonly keyring?: RecordEncryptorOptions['keyring'];
  /** Keyrings to provision before the adapters start (the default keyring always is). */
  readonly provision?: readonly string[];
}

async function freshDatabase(kind: Kind): Promise<string> {
  if (kind === 'sqlite') {
    const file = join(mkdtempSync(join(tmpdir(), 'keystrata-interop-')), 'app.db');
    const setup = new Database(file);
    setup.exec(readFileSync(new URL('../../sql/sqlite.sql', import.meta.url), 'utf8'));
    setup.close();
    return file;
  }
  const url = await createDatabase(inject('postgresUrl'), 'keystrata_interop');
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query(readFileSync(new URL('../../sql/postgresql.sql', import.meta.url), 'utf8'));
  await setup.end();
  return url;
}

/** Opens a stack on a fresh database of `kind`. */
export async function openStack(kind: Kind, options: StackOptions = {}): Promise<Stack> {
  const location = await freshDatabase(kind);
  const driver = kind === 'sqlite' ? await createSqliteDriver({ database: location }) : await createPostgresDriver({ database: location });
  const rootKey = await openRootKey();
  // A CMK label prefix of its own, so stacks sharing the run's token never meet in the HSM.
  const hierarchy = await KeyHierarchy.create({ rootKey, keyStore: new SqlKeyStore(driver), cmkLabelPrefix: `interop-${Math.random().toString(36).slice(2)}` });
  await hierarchy.provision();
  for (const keyring of options.provision ?? []) await hierarchy.provision(keyring);

  const { base, fieldMap } = await openPrismaBase(kind === 'sqlite' ? { sqlite: location } : { postgres: location });
  const keyring = options.keyring === undefined ? {} : { keyring: options.keyring };
  const prismaWith = (o: PrismaSideOptions = {}) => extendPrisma(base, fieldMap, hierarchy, SEGMENT, { ...keyring, ...o });

  const sides: TypeormSide[] = [];
  const openTypeorm = async (o: TypeormSideOptions = {}): Promise<TypeormSide> => {
    const dataSource = new DataSource({
      ...(kind === 'sqlite' ? { type: 'better-sqlite3' as const, database: location } : { type: 'postgres' as const, url: location }),
      entities: [PatientRecord],
      synchronize: false, // the table is the one Prisma's SQL created
    });
    await dataSource.initialize();
    const keystrata = await installKeystrata(dataSource, { hierarchy, segment: SEGMENT, ...keyring, ...o });
    const side: TypeormSide = {
      dataSource,
      keystrata,
      repo: dataSource.getRepository(PatientRecord),
      async close() {
        await keystrata.close(); // leaves the hierarchy open: it was passed in
        await dataSource.destroy();
      },
    };
    sides.push(side);
    return side;
  };
  const typeorm = await openTypeorm();
  const raw = kind === 'sqlite' ? sqliteRaw(location) : await postgresRaw(location);
  return {
    kind,
    location,
    hierarchy,
    prisma: prismaWith(),
    typeorm,
    raw,
    extendPrisma: prismaWith,
    openTypeorm,
    async close() {
      for (const side of sides) await side.close();
      await (base as PrismaBase).$disconnect();
      await raw.close();
      await hierarchy.close(); // key store and root key
    },
  };
}
