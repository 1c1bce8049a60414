/**
 * W3 decomposition for the Prisma adapter (issue 16): 1,000 findFirst lookups on the encrypted
 * e-mail, interleaved round by round, as
 * - plain: the bare client on a plain table with an ordinary index on email;
 * - stored: the bare client on the keystrata table by the precomputed blind index (no extension);
 * - pass-through: the same through a `$extends` whose query hook only calls `query(args)` (what
 *   Prisma's extension machinery alone costs a query);
 * - core: hierarchy.blindIndex + decryptValues of the row's two envelopes (no ORM);
 * - records-stored-rows: RecordEncryptor.decryptGroups (what the adapter calls) on copies of rows
 *   read once at set-up, in a loop with no Prisma query in between;
 * - pt-by-id / pt-by-id+records: a pass-through findFirst by id, then (+records) decryptGroups on
 *   the row it returned: the same decrypt costs several times more right after a Prisma query;
 * - ks-by-id: findFirst by id through withKeystrata (no blind index, the row decrypted);
 * - keystrata: findFirst({ where: { email } }) through withKeystrata.
 * Prints µs per lookup (median; CPU time of the process in parentheses) and key-store queries per run.
 * `pnpm --filter @keystrata/bench exec vitest run -c vitest.profile.config.ts src/profile/prisma-lookup.profile.ts`;
 * KEYSTRATA_PROFILE_ONLY=<variant> runs one variant (a cleaner CPU profile of it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { it } from 'vitest';
import { createSqliteDriver, SqlKeyStore } from '@keystrata/core';
import { withKeystrata } from '@keystrata/prisma';
import { PrismaClient } from '../../generated/keystrata/client/client.js';
import { fieldMap } from '../../generated/keystrata/fieldmap/index.js';
import { emailOf, expectRow, lookupSeqs, mainBatches } from '../data.js';
import { openHierarchy } from '../keys.js';
import { coreLookups, timeLookups } from './core-lookup.js';

function sqliteFile(dir: string, name: string, plainEmailIndex: boolean): string {
  const file = join(dir, `${name}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE "Patient" ("id" TEXT NOT NULL PRIMARY KEY, "seq" INTEGER NOT NULL, "tenantId" TEXT NOT NULL, "email" TEXT NOT NULL, "emailIndex" TEXT, "ssn" TEXT NOT NULL); CREATE UNIQUE INDEX "Patient_emailIndex_key" ON "Patient"("emailIndex")',
  );
  if (plainEmailIndex) db.exec('CREATE INDEX "Patient_email_idx" ON "Patient"("email")');
  db.close();
  return file;
}

it('profile: prisma W3 lookups, decomposed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-bench-profile-'));
  const open = (file: string) => new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
  const plain = open(sqliteFile(dir, 'plain', true));
  const ksFile = sqliteFile(dir, 'ks', false);
  const hierarchy = await openHierarchy(new SqlKeyStore(await createSqliteDriver({ database: ksFile })), 'profile-prisma-lookup');
  const base = open(ksFile);
  const ks = withKeystrata(base, { hierarchy, fieldMap, segment: { by: 'tenant', field: 'tenantId' } });
  const passThrough = base.$extends({ query: { $allModels: { $allOperations: ({ args, query }) => query(args) } } });
  for (const batch of mainBatches()) {
    await plain.patient.createMany({ data: batch.map((r) => ({ ...r })) });
    await ks.patient.createMany({ data: batch.map((r) => ({ ...r })) });
  }
  const indexes = new Map<number, string>();
  for (const seq of lookupSeqs) indexes.set(seq, await hierarchy.blindIndex(emailOf(seq), { model: 'Patient', field: 'email' }));
  const storedRows = new Map<number, { id: string; tenantId: string; email: string; ssn: string }>();
  for (const seq of lookupSeqs) storedRows.set(seq, (await base.patient.findFirst({ where: { emailIndex: indexes.get(seq)! } }))!);
  if ([...storedRows.values()].some((r) => r === null)) throw new Error('the precomputed blind index finds no row');

  const variants: Record<string, () => Promise<void>> = {
    plain: async () => {
      for (const seq of lookupSeqs) expectRow(await plain.patient.findFirst({ where: { email: emailOf(seq) } }), seq);
    },
    stored: async () => {
      for (const seq of lookupSeqs) if ((await base.patient.findFirst({ where: { emailIndex: indexes.get(seq)! } }))?.seq !== seq) throw new Error('stored lookup');
    },
    'pass-through': async () => {
      for (const seq of lookupSeqs) if ((await passThrough.patient.findFirst({ where: { emailIndex: indexes.get(seq)! } }))?.seq !== seq) throw new Error('pass-through lookup');
    },
    core: coreLookups(hierarchy, 'Patient', storedRows),
    'records-stored-rows': async () => {
      for (const seq of lookupSeqs) {
        const row = { ...storedRows.get(seq)! };
        await records.decryptGroups([{ model: 'Patient', rows: [row as never] }]);
      }
    },
    'pt-by-id': async () => {
      for (const seq of lookupSeqs) if ((await passThrough.patient.findFirst({ where: { id: storedRows.get(seq)!.id } }))?.seq !== seq) throw new Error('x');
    },
    'pt-by-id+records': async () => {
      for (const seq of lookupSeqs) {
        const row = await passThrough.patient.findFirst({ where: { id: storedRows.get(seq)!.id } });
        await records.decryptGroups([{ model: 'Patient', rows: [row as never] }]);
        expectRow(row, seq);
      }
    },
    'ks-by-id': async () => {
      for (const seq of lookupSeqs) expectRow(await ks.patient.findFirst({ where: { id: storedRows.get(seq)!.id } }), seq);
    },
    keystrata: async () => {
      for (const seq of lookupSeqs) expectRow(await ks.patient.findFirst({ where: { email: emailOf(seq) } }), seq);
    },
  };
  if (process.env.KEYSTRATA_PROFILE_SQL === '1') {
    // The SQL statements one lookup prepares, per variant (better-sqlite3's prepare, counted).
    const proto = Database.prototype as unknown as { prepare(sql: string): unknown };
    const prepare = proto.prepare;
    const seen: string[] = [];
    proto.prepare = function (this: unknown, sql: string) {
      seen.push(sql);
      return prepare.call(this, sql);
    };
    const seq = lookupSeqs[0]!;
    for (const [name, find] of [
      ['plain', () => plain.patient.findFirst({ where: { email: emailOf(seq) } })],
      ['pass-through', () => passThrough.patient.findFirst({ where: { emailIndex: indexes.get(seq)! } })],
      ['keystrata', () => ks.patient.findFirst({ where: { email: emailOf(seq) } })],
    ] as const) {
      await find();
      seen.length = 0;
      await find();
      console.log(`[profile] SQL of one ${name} lookup:\n  ${seen.join('\n  ')}`);
    }
    proto.prepare = prepare;
  }
  const records = (ks as unknown as { $keystrata: { records: { decryptGroups: (g: unknown) => Promise<void> } } }).$keystrata.records;
  console.log(`[profile] prisma W3 ${await timeLookups(hierarchy, variants)}`);
  for (const client of [plain, base]) await client.$disconnect();
  await hierarchy.close();
  rmSync(dir, { recursive: true, force: true });
});
