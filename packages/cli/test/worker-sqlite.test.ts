import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeDekId } from '@keystrata/core/adapter';
import { loadConfig } from '../src/config.js';
import { openHierarchy } from '../src/open.js';
import { keystrata } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-worker-sqlite-'));
const ok = (args: string[]) => {
  const r = keystrata(dir, args);
  expect(r.status, `keystrata ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const context = (id: string) => ({ model: 'Item', field: 'value', recordId: id, segment: 's1' });
const ROWS = 230;

describe('keystrata rotate dek --workers on a SQLite key store (workers in the command)', () => {
  const items = join(dir, 'items.db');
  beforeAll(async () => {
    process.env.ITEMS_SQLITE_FILE = items;
    ok(['hsm', 'init-dev']);
    ok(['init']);
    const file = join(dir, 'keystrata.config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...config, worker: { module: fileURLToPath(new URL('./fixtures/items-hook-sqlite.mjs', import.meta.url)), batchSize: 40 } }));
    const db = new Database(items);
    db.exec('CREATE TABLE items (id TEXT PRIMARY KEY, segment TEXT NOT NULL, value TEXT NOT NULL)');
    const hierarchy = await openHierarchy(loadConfig(file));
    try {
      const ids = Array.from({ length: ROWS }, (_, i) => `i${String(i).padStart(4, '0')}`);
      const sealed = await hierarchy.encryptValues(ids.map((id) => ({ value: `value-${id}`, context: context(id) })));
      const insert = db.prepare('INSERT INTO items VALUES (?, ?, ?)');
      for (const [i, id] of ids.entries()) insert.run(id, 's1', sealed[i]);
    } finally {
      await hierarchy.close();
      db.close();
    }
  }, 60_000);
  afterAll(() => {
    delete process.env.ITEMS_SQLITE_FILE;
  });

  it('issue 15 §2: SQLite keeps the in-process path: `rotate dek --workers 3` re-encrypts with three workers in the command; `--workers 0` is refused', async () => {
    const refused = keystrata(dir, ['rotate', 'dek', '--segment', 's1', '--workers', '0']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/SQLite key store the jobs live in this process: give --workers 1 or more/);
    const result = JSON.parse(ok(['rotate', 'dek', '--segment', 's1', '--workers', '3', '--old-keys', 'disable', '--json']));
    expect(result).toMatchObject({ segment: 's1', batches: Math.ceil(ROWS / 40), here: { finished: 1, rewritten: ROWS } });
    const db = new Database(items, { readonly: true });
    const rows = db.prepare('SELECT id, value FROM items ORDER BY id').all() as Array<{ id: string; value: string }>;
    db.close();
    expect(rows.filter((r) => envelopeDekId(r.value) !== result.dekId)).toEqual([]);
    const hierarchy = await openHierarchy(loadConfig(join(dir, 'keystrata.config.json')));
    try {
      expect(await hierarchy.decryptValues(rows.map((r) => ({ ciphertext: r.value, context: context(r.id) })))).toEqual(rows.map((r) => `value-${r.id}`));
    } finally {
      await hierarchy.close();
    }
    expect(ok(['status'])).toMatch(/1 primary.*1 disabled|1 disabled.*1 primary/);
  }, 60_000);
});
