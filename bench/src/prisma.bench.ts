/**
 * Prisma 7 on SQLite: plain PrismaClient, Keystrata (`withKeystrata`), prisma-field-encryption
 * 1.6.0 (with a DMMF dumped by our generator, since Prisma 7 exposes none) and raw AES-256-GCM,
 * interleaved in one process. Each ORM variant has its own SQLite file (WAL), same table layout.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { fieldEncryptionExtension } from 'prisma-field-encryption';
import { it } from 'vitest';
import { createSqliteDriver, SqlKeyStore } from '@keystrata/core';
import { prismaReencryptionHook, withKeystrata } from '@keystrata/prisma';
import { PrismaClient } from '../generated/keystrata/client/client.js';
import { fieldMap } from '../generated/keystrata/fieldmap/index.js';
import { PrismaClient as PeerPrismaClient } from '../generated/peer/client/client.js';
import { ROTATION_TENANT, type PatientRow } from './data.js';
import { kekVersions, openHierarchy } from './keys.js';
import { packageVersion } from './machine.js';
import { RAW_DESCRIPTION } from './raw.js';
import { writePart } from './part.js';
import { aeadPath } from './report-issue16.js';
import { BENCH_DIR } from './paths.js';
import { assertNoFailures, runOrmWorkloads, type OrmVariant, type ReadRow, type StoredRow } from './workloads.js';

/** The table of both schemas; `indexColumn` is emailIndex (ours) or emailHash (the peer's). */
function tableDdl(indexColumn: 'emailIndex' | 'emailHash', plainEmailIndex: boolean): string[] {
  return [
    'DROP TABLE IF EXISTS "Patient"',
    `CREATE TABLE "Patient" ("id" TEXT NOT NULL PRIMARY KEY, "seq" INTEGER NOT NULL, "tenantId" TEXT NOT NULL, "email" TEXT NOT NULL, "${indexColumn}" TEXT, "ssn" TEXT NOT NULL)`,
    `CREATE UNIQUE INDEX "Patient_${indexColumn}_key" ON "Patient"("${indexColumn}")`,
    'CREATE INDEX "Patient_seq_idx" ON "Patient"("seq")',
    'CREATE INDEX "Patient_tenantId_idx" ON "Patient"("tenantId")',
    // The plain baseline looks e-mails up by an ordinary index, as an application without encryption would.
    ...(plainEmailIndex ? ['CREATE INDEX "Patient_email_idx" ON "Patient"("email")'] : []),
  ];
}

/** A fresh SQLite file in WAL mode (the key store puts its file in WAL; every variant gets the same). */
function sqliteFile(dir: string, name: string, ddl: readonly string[]): string {
  const file = join(dir, `${name}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  for (const sql of ddl) db.exec(sql);
  db.close();
  return file;
}

interface Recreatable {
  $executeRawUnsafe(sql: string): Promise<number>;
}
async function recreate(client: Recreatable, ddl: readonly string[]): Promise<void> {
  for (const sql of ddl) await client.$executeRawUnsafe(sql);
}

type Base = PrismaClient;
const rowsOf = (rows: readonly PatientRow[]) => rows.map((r) => ({ seq: r.seq, tenantId: r.tenantId, email: r.email, ssn: r.ssn }));

/** Plain W5: the I/O of a re-encryption pass without crypto, as the Keystrata hook does it (pages of 200 by id, compare-and-swap updates in one transaction per page). */
async function rewriteTenant(client: Base): Promise<number> {
  let written = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await client.patient.findMany({
      where: { tenantId: ROTATION_TENANT, ...(cursor === undefined ? {} : { id: { gt: cursor } }) },
      orderBy: { id: 'asc' },
      take: 200,
      select: { id: true, email: true, ssn: true },
    });
    if (page.length === 0) return written;
    const counts = await client.$transaction(page.map((r) => client.patient.updateMany({ where: { id: r.id, email: r.email, ssn: r.ssn }, data: { email: r.email, ssn: r.ssn } })));
    written += counts.reduce((n, c) => n + c.count, 0);
    cursor = page.at(-1)!.id;
    if (page.length < 200) return written;
  }
}

/**
 * Peer W5: prisma-field-encryption's own key rotation. Its generator writes a `migrate()` per
 * model that walks records one by one (an interactive transaction per record: findFirst with a
 * cursor, then update with the decrypted values, which re-encrypts them under the current
 * `encryptionKey`; old keys stay in `decryptionKeys`). The same loop, limited to the tenant.
 */
async function peerMigrateTenant(client: PeerPrismaClient): Promise<number> {
  let written = 0;
  let cursor: string | undefined;
  for (;;) {
    const next = await client.$transaction(async (tx) => {
      const record = await tx.patient.findFirst({
        where: { tenantId: ROTATION_TENANT },
        take: 1,
        ...(cursor === undefined ? {} : { skip: 1, cursor: { id: cursor } }),
        orderBy: { id: 'asc' },
        select: { id: true, email: true, ssn: true },
      });
      if (record === null) return undefined;
      await tx.patient.update({ where: { id: record.id }, data: { email: record.email, ssn: record.ssn } });
      return record.id;
    });
    if (next === undefined) return written;
    cursor = next;
    written++;
  }
}

function variantOf(client: () => Base, ddl: readonly string[], findByEmail: OrmVariant['findByEmail'], rotate: OrmVariant['rotate']): OrmVariant {
  return {
    recreate: () => recreate(client(), ddl),
    insertBatch: async (rows) => {
      await client().patient.createMany({ data: rowsOf(rows) });
    },
    readAll: () => client().patient.findMany() as Promise<ReadRow[]>,
    findByEmail,
    readSeqBelow: (limit) => client().patient.findMany({ where: { seq: { lt: limit } } }) as Promise<ReadRow[]>,
    rotate,
  };
}

it('prisma: plain vs keystrata vs prisma-field-encryption vs raw AES-256-GCM', async () => {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-bench-prisma-'));
  const plainDdl = tableDdl('emailIndex', true);
  const ksDdl = tableDdl('emailIndex', false);
  const peerDdl = tableDdl('emailHash', false);
  const open = (file: string) => new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });

  // plain: the generated client, no extension.
  const plain = open(sqliteFile(dir, 'plain', plainDdl));

  // keystrata: withKeystrata over the same generated client; key store in the same file.
  const ksFile = sqliteFile(dir, 'keystrata', ksDdl);
  const hierarchy = await openHierarchy(new SqlKeyStore(await createSqliteDriver({ database: ksFile })), 'prisma');
  const ksBase = open(ksFile);
  const ks = withKeystrata(ksBase, { hierarchy, fieldMap, segment: { by: 'tenant', field: 'tenantId' } });
  const hook = prismaReencryptionHook(ks);

  // peer: prisma-field-encryption with the dumped DMMF and a cloak key; a new key per rotation.
  const dmmf = JSON.parse(readFileSync(join(BENCH_DIR, 'generated', 'peer', 'dmmf.json'), 'utf8')) as unknown;
  const peerKeys = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(() => `k1.aesgcm256.${randomBytes(32).toString('base64url')}`);
  let peerKey = 0;
  const peerBase = new PeerPrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${sqliteFile(dir, 'peer', peerDdl)}` }) });
  const extendPeer = () =>
    peerBase.$extends(fieldEncryptionExtension({ encryptionKey: peerKeys[peerKey]!, decryptionKeys: peerKeys.slice(0, peerKey + 1), dmmf: dmmf as never })) as unknown as PeerPrismaClient;
  let peer = extendPeer();

  // Breakdown: the plain client on a scratch file (plain layout) and the client under the extension.
  const scratch = open(sqliteFile(dir, 'scratch', plainDdl));

  const workloads = await runOrmWorkloads({
    hierarchy,
    breakdown: {
      model: 'Patient',
      readCiphertext: () => ksBase.patient.findMany() as Promise<StoredRow[]>,
      recreateScratch: (layout) => recreate(scratch, layout === 'plain' ? plainDdl : ksDdl),
      insertScratch: async (rows) => {
        await scratch.patient.createMany({ data: rows.map((r) => ({ ...r })) });
      },
    },
    plain: variantOf(
      () => plain,
      plainDdl,
      (email) => plain.patient.findFirst({ where: { email } }),
      () => rewriteTenant(plain),
    ),
    keystrata: variantOf(
      () => ks as unknown as Base,
      ksDdl,
      (email) => ks.patient.findFirst({ where: { email } }),
      async () => {
        const result = await hierarchy.rotateDek({ segment: `tenantId:${ROTATION_TENANT}`, hook });
        return result.reencrypted;
      },
    ),
    peer: {
      ...variantOf(
        () => peer as unknown as Base,
        peerDdl,
        (email) => peer.patient.findFirst({ where: { email } }),
        () => peerMigrateTenant(peer),
      ),
      recreate: () => recreate(peerBase, peerDdl),
      prepareRotation: async () => {
        peerKey++;
        peer = extendPeer();
      },
    },
    notes: {
      W3: {
        plain: 'findFirst on an ordinary index of email',
        keystrata: 'findFirst rewritten to the HMAC blind index (emailIndex)',
        peer: 'findFirst rewritten to the unkeyed SHA-256 hash column (emailHash)',
      },
      W4: { peer: 'same read; the peer has one static key, no key cache to empty' },
      W5: {
        plain: 'the I/O of a re-encryption pass without crypto: pages of 200 by id, compare-and-swap updateMany per row, one transaction per page',
        keystrata: 'hierarchy.rotateDek with prismaReencryptionHook (batches of 200)',
        peer: 'its own mechanism: new encryptionKey, old key in decryptionKeys, then its generated migrate() loop (one interactive transaction per record) limited to the tenant',
      },
    },
  });

  writePart({
    orm: 'prisma',
    label: `Prisma ${packageVersion('@prisma/client')} on SQLite`,
    status: 'ok',
    variants: {
      plain: 'generated PrismaClient (prisma-client generator) with @prisma/adapter-better-sqlite3, no extension',
      keystrata: 'withKeystrata(client, { segment: { by: tenant } }); /// @encrypted(index: emailIndex) email, /// @encrypted ssn; key store in the same SQLite file',
      peer: 'prisma-field-encryption fieldEncryptionExtension({ dmmf, encryptionKey }); /// @encrypted email + /// @encryption:hash(email) emailHash, /// @encrypted ssn',
      raw: RAW_DESCRIPTION,
    },
    kekVersions: await kekVersions(hierarchy),
    database: `SQLite (better-sqlite3 ${packageVersion('better-sqlite3')}), one WAL file per variant`,
    versions: {
      prisma: packageVersion('prisma'),
      '@prisma/client': packageVersion('@prisma/client'),
      '@prisma/adapter-better-sqlite3': packageVersion('@prisma/adapter-better-sqlite3'),
      'better-sqlite3': packageVersion('better-sqlite3'),
      'prisma-field-encryption': packageVersion('prisma-field-encryption'),
      '@47ng/cloak': packageVersion('@47ng/cloak', 'prisma-field-encryption'),
      '@keystrata/prisma': packageVersion('@keystrata/prisma'),
    },
    workloads,
    durationMs: performance.now() - started,
    aead: aeadPath(hierarchy),
  });

  for (const client of [plain, ksBase, peerBase, scratch]) await client.$disconnect();
  await hierarchy.close();
  rmSync(dir, { recursive: true, force: true });
  assertNoFailures(workloads);
});
