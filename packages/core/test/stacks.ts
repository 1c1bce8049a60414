import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pkcs11js from 'pkcs11js';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase } from '@keystrata/testing';
import { createPostgresDriver, createSqliteDriver, Pkcs11RootKey, SqlKeyStore, type RootKey } from '../src/index.js';
import type { Stack } from './hierarchy-behaviour.js';

/** A root key on the run's SoftHSM2 token. */
export async function openTestRootKey(overrides: { pin?: string } = {}): Promise<Pkcs11RootKey> {
  const token = inject('softhsm');
  return Pkcs11RootKey.open({
    module: token.module,
    tokenLabel: token.tokenLabel,
    pin: () => overrides.pin ?? token.pin,
    moduleEnvironment: token.moduleEnvironment,
  });
}

/** SoftHSM2 (or the root key `openRootKey` opens: NSS softoken in hierarchy-nss.test.ts) + a fresh SQLite file. */
export async function sqliteStack(openRootKey: () => Promise<RootKey> = openTestRootKey): Promise<Stack & { file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-core-'));
  const file = join(dir, 'keys.db');
  const rootKey = await openRootKey();
  const keyStore = new SqlKeyStore(await createSqliteDriver({ database: file }));
  const extra: SqlKeyStore[] = [];
  return {
    file,
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

/** SoftHSM2 (or the root key `openRootKey` opens) + a fresh PostgreSQL database on the run's private server. */
export async function postgresStack(openRootKey: () => Promise<RootKey> = openTestRootKey): Promise<Stack & { url: string }> {
  const url = await createDatabase(inject('postgresUrl'), 'keystrata_core');
  const rootKey = await openRootKey();
  const keyStore = new SqlKeyStore(await createPostgresDriver({ database: url }));
  const extra: SqlKeyStore[] = [];
  return {
    url,
    rootKey,
    keyStore,
    async freshKeyStore() {
      const store = new SqlKeyStore(await createPostgresDriver({ database: await createDatabase(inject('postgresUrl'), 'keystrata_fresh') }));
      extra.push(store);
      return store;
    },
    async editAuditRow(seq) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`UPDATE keystrata_audit SET details = '{"edited":true}' WHERE seq = $1`, [seq]);
      await client.end();
    },
    async close() {
      await keyStore.close();
      for (const store of extra) await store.close();
      await rootKey.close();
    },
  };
}

/** A second, raw PKCS#11 handle on the run's token, logged in: how an operator or a PIN-holding attacker looks. */
export function rawPkcs11Session(): { pkcs11: pkcs11js.PKCS11; session: Buffer; slot: Buffer } {
  const token = inject('softhsm');
  const pkcs11 = new pkcs11js.PKCS11();
  pkcs11.load(token.module);
  try {
    pkcs11.C_Initialize();
  } catch (e) {
    if (!String(e).includes('ALREADY_INITIALIZED')) throw e;
  }
  const slot = pkcs11.C_GetSlotList(true).find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === token.tokenLabel)!;
  const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    pkcs11.C_Login(session, pkcs11js.CKU_USER, token.pin);
  } catch (e) {
    if (!String(e).includes('ALREADY_LOGGED_IN')) throw e;
  }
  return { pkcs11, session, slot };
}
