import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteDriver, openPkcs11Members, SqlKeyStore } from '../../src/index.js';
import { describeHierarchy, type Stack } from '../hierarchy-behaviour.js';
// @ts-expect-error: a plain .mjs helper shared with the child processes
import { createMemberToken, memberOptions } from './member-tokens.mjs';

/** Two SoftHSM2 members (own token directories), made once for the file; each stack opens a fresh root and key store. */
let tokens: unknown[] | undefined;

async function membersStack(): Promise<Stack> {
  tokens ??= [createMemberToken('a'), createMemberToken('b')];
  const rootKey = await openPkcs11Members({ kind: 'independent', members: tokens.map((t) => memberOptions(t)) });
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-members-conformance-'));
  const file = join(dir, 'keys.db');
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
  const extra: SqlKeyStore[] = [];
  return {
    rootKey,
    keyStore,
    async freshKeyStore() {
      const store = new SqlKeyStore(await createSqliteDriver({ database: join(dir, `fresh-${extra.length}.db`) }));
      extra.push(store);
      return store;
    },
    async editAuditRow(seq) {
      const db = new Database(file);
      db.prepare(`UPDATE keystrata_audit SET details = '{"edited":true}' WHERE seq = ?`).run(seq);
      db.close();
    },
    async close() {
      await keyStore.close();
      for (const store of extra) await store.close();
      await rootKey.close();
    },
  };
}

describeHierarchy('a root of two independent SoftHSM2 members and SQLite (issue 14)', membersStack);
