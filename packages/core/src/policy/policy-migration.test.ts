import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqlKeyStore } from '../key-store/sql-key-store.js';
import { createSqliteDriver } from '../key-store/sqlite-driver.js';

describe('rotation-policy tables in an existing key store', () => {
  it('issue 15 §3: migrate() adds keystrata_policy and keystrata_dek_use to a store written before them; its keys and rows stay', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'policy-migrate-')), 'keys.db');
    const first = new SqlKeyStore(await createSqliteDriver({ database: file }));
    await first.migrate();
    const at = new Date().toISOString();
    await first.insertKek({ keyring: 'default', version: 1, cmkVersion: 1, wrapped: 'AAAA', state: 'primary', createdAt: at, updatedAt: at, binding: '' });
    await first.close();
    // The store as an older release left it: without the policy tables.
    const raw = new Database(file);
    raw.exec('DROP TABLE keystrata_policy; DROP TABLE keystrata_dek_use;');
    raw.close();
    const store = new SqlKeyStore(await createSqliteDriver({ database: file }));
    try {
      await store.migrate();
      expect((await store.listKeks('default')).map((k) => k.version)).toEqual([1]);
      expect(await store.getPolicy('default')).toBeUndefined();
      await store.putPolicy({ keyring: 'default', kekValiditySeconds: null, dekValiditySeconds: 60, dekUsageLimit: 1000, updatedAt: at });
      expect(await store.getPolicy('default')).toEqual({ keyring: 'default', kekValiditySeconds: null, dekValiditySeconds: 60, dekUsageLimit: 1000, updatedAt: at });
      expect((await store.reserveDekUses([{ dekId: 'd1', count: 10 }])).get('d1')).toBe(10);
      expect((await store.reserveDekUses([{ dekId: 'd1', count: 5 }])).get('d1')).toBe(15);
      await store.migrate(); // idempotent
      expect((await store.loadDekUses(['d1'])).get('d1')).toBe(15);
    } finally {
      await store.close();
    }
  });
});
