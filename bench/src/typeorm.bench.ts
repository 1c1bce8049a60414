/**
 * TypeORM 1.x on SQLite: plain TypeORM, Keystrata (`installKeystrata`, `@Encrypted`),
 * typeorm-encrypted 0.8.0 (`EncryptionTransformer`, aes-256-gcm, random 12-byte IV, 16-byte tag)
 * and raw AES-256-GCM, interleaved in one process; one SQLite file (WAL) and DataSource per variant.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { DataSource, LessThan, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { it } from 'vitest';
import { createSqliteDriver, SqlKeyStore } from '@keystrata/core';
import { installKeystrata, typeormReencryptionHook } from '@keystrata/typeorm';
import { KsPatient, PeerPatient, PlainPatient, StoredPatient } from './orm/typeorm-entities.js';
import { ROTATION_TENANT } from './data.js';
import { kekVersions, openHierarchy } from './keys.js';
import { packageVersion } from './machine.js';
import { RAW_DESCRIPTION } from './raw.js';
import { writePart } from './part.js';
import { aeadPath } from './report-issue16.js';
import { assertNoFailures, runOrmWorkloads, type OrmVariant, type ReadRow, type StoredRow } from './workloads.js';

type Row = { id: string; seq: number; tenantId: string; email: string; ssn: string };

async function open(dir: string, name: string, entity: Function): Promise<{ ds: DataSource; file: string; ddl: string[] }> {
  const file = join(dir, `${name}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL'); // as the key store does to its file; the same for every variant
  db.close();
  const ds = await new DataSource({ type: 'better-sqlite3', database: file, entities: [entity], synchronize: true }).initialize();
  // The DDL TypeORM synchronized, replayed to re-create the table between insert rounds.
  const rows = (await ds.query(`SELECT type, sql FROM sqlite_master WHERE tbl_name = 'patient' AND sql IS NOT NULL`)) as Array<{ type: string; sql: string }>;
  const ddl = ['DROP TABLE IF EXISTS "patient"', ...rows.filter((r) => r.type === 'table').map((r) => r.sql), ...rows.filter((r) => r.type === 'index').map((r) => r.sql)];
  return { ds, file, ddl };
}

/** Plain W5: a re-encryption pass's I/O without crypto, as the Keystrata hook does it (pages of 200 by id, compare-and-swap update per row, one transaction per page). */
async function rewriteTenant(ds: DataSource): Promise<number> {
  let written = 0;
  let after: string | undefined;
  for (;;) {
    const qb = ds.getRepository(PlainPatient).createQueryBuilder('e').where('e.tenantId = :tenant', { tenant: ROTATION_TENANT }).orderBy('e.id', 'ASC').limit(200);
    if (after !== undefined) qb.andWhere('e.id > :after', { after });
    const page = await qb.getMany();
    if (page.length === 0) return written;
    await ds.transaction(async (manager) => {
      for (const r of page) {
        const result = await manager
          .createQueryBuilder()
          .update(PlainPatient)
          .set({ email: r.email, ssn: r.ssn })
          .callListeners(false)
          .where('id = :id AND email = :email AND ssn = :ssn', { id: r.id, email: r.email, ssn: r.ssn })
          .execute();
        written += result.affected ?? 0;
      }
    });
    after = page.at(-1)!.id;
    if (page.length < 200) return written;
  }
}

function variantOf(ds: DataSource, entity: EntityTarget<ObjectLiteral>, ddl: readonly string[], findByEmail: OrmVariant['findByEmail'], rotate: OrmVariant['rotate']): OrmVariant {
  const repo = ds.getRepository(entity);
  return {
    recreate: async () => {
      for (const sql of ddl) await ds.query(sql);
    },
    insertBatch: async (rows) => {
      await repo.insert(rows.map((r) => ({ seq: r.seq, tenantId: r.tenantId, email: r.email, ssn: r.ssn })));
    },
    readAll: () => repo.find() as Promise<ReadRow[]>,
    findByEmail,
    readSeqBelow: (limit) => repo.find({ where: { seq: LessThan(limit) } }) as Promise<ReadRow[]>,
    rotate,
  };
}

it('typeorm: plain vs keystrata vs typeorm-encrypted vs raw AES-256-GCM', async () => {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-bench-typeorm-'));
  const plain = await open(dir, 'plain', PlainPatient);
  const ks = await open(dir, 'keystrata', KsPatient);
  const peer = await open(dir, 'peer', PeerPatient);
  const hierarchy = await openHierarchy(new SqlKeyStore(await createSqliteDriver({ database: ks.file })), 'typeorm');
  const keystrata = await installKeystrata(ks.ds, { hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
  const hook = typeormReencryptionHook(ks.ds);
  // Breakdown: a plain DataSource on a scratch file, and one over the keystrata file without the adapter.
  const scratch = await open(dir, 'scratch', PlainPatient);
  const stored = await new DataSource({ type: 'better-sqlite3', database: ks.file, entities: [StoredPatient] }).initialize();
  const findBy = (ds: DataSource, entity: EntityTarget<ObjectLiteral>) => (email: string) => ds.getRepository(entity).findOneBy({ email }) as Promise<Row | null>;

  const workloads = await runOrmWorkloads({
    hierarchy,
    breakdown: {
      model: 'KsPatient', // the class name (no @EncryptedModel)
      readCiphertext: () => stored.getRepository(StoredPatient).find() as Promise<StoredRow[]>,
      recreateScratch: async (layout) => {
        for (const sql of layout === 'plain' ? scratch.ddl : ks.ddl) await scratch.ds.query(sql); // same table name and columns, the keystrata table's indexes
      },
      insertScratch: async (rows) => {
        await scratch.ds.getRepository(PlainPatient).insert(rows.map((r) => ({ ...r })));
      },
    },
    plain: variantOf(plain.ds, PlainPatient, plain.ddl, findBy(plain.ds, PlainPatient), () => rewriteTenant(plain.ds)),
    keystrata: variantOf(ks.ds, KsPatient, ks.ddl, findBy(ks.ds, KsPatient), async () => {
      const result = await hierarchy.rotateDek({ segment: `tenantId:${ROTATION_TENANT}`, hook });
      return result.reencrypted;
    }),
    peer: variantOf(
      peer.ds,
      PeerPatient,
      peer.ddl,
      'typeorm-encrypted matches a where value only with a fixed IV (deterministic AES-GCM: nonce reuse under one key); with the random IV benchmarked here a lookup finds nothing. No blind index or hash column.',
      'typeorm-encrypted has no key id or key rotation: the key is fixed in the column options.',
    ),
    notes: {
      W3: { plain: 'findOneBy on an ordinary index of email', keystrata: 'findOneBy rewritten to the HMAC blind index (emailIndex)' },
      W4: { peer: 'same read; the peer has one static key, no key cache to empty' },
      W5: {
        plain: 'the I/O of a re-encryption pass without crypto: pages of 200 by id, compare-and-swap UPDATE per row, one transaction per page',
        keystrata: 'hierarchy.rotateDek with typeormReencryptionHook (batches of 200)',
      },
    },
  });

  writePart({
    orm: 'typeorm',
    label: `TypeORM ${packageVersion('typeorm')} on SQLite`,
    status: 'ok',
    variants: {
      plain: 'DataSource (better-sqlite3) with an entity of plain text columns',
      keystrata: 'installKeystrata(dataSource, { hierarchy, segment: { by: tenant } }); @Encrypted({ index: emailIndex }) email, @Encrypted() ssn; key store in the same SQLite file',
      peer: 'typeorm-encrypted EncryptionTransformer({ algorithm: aes-256-gcm, ivLength: 12, authTagLength: 16 }) on both columns (random IV)',
      raw: RAW_DESCRIPTION,
    },
    kekVersions: await kekVersions(hierarchy),
    database: `SQLite (better-sqlite3 ${packageVersion('better-sqlite3')}), one WAL file per variant`,
    versions: {
      typeorm: packageVersion('typeorm'),
      'typeorm-encrypted': packageVersion('typeorm-encrypted'),
      'better-sqlite3': packageVersion('better-sqlite3'),
      'reflect-metadata': packageVersion('reflect-metadata'),
      '@keystrata/typeorm': packageVersion('@keystrata/typeorm'),
    },
    workloads,
    durationMs: performance.now() - started,
    aead: aeadPath(hierarchy),
  });

  await keystrata.close();
  for (const { ds } of [plain, ks, peer, scratch]) await ds.destroy();
  await stored.destroy();
  await hierarchy.close(); // passed in, so ours to close
  rmSync(dir, { recursive: true, force: true });
  assertNoFailures(workloads);
});
