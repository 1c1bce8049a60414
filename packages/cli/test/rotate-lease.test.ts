import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { keystrata } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-rotate-'));
const ok = (args: string[]) => {
  const r = keystrata(dir, args);
  expect(r.status, `keystrata ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
/** Opens the CLI's key store the way a second process (the racing rotation) sees it. */
const keyStoreDb = () => new Database(join(dir, '.keystrata', 'keys.db'));

describe('keystrata rotate while another process holds the rotation lease', () => {
  beforeAll(() => {
    ok(['hsm', 'init-dev']);
    ok(['init']);
  });

  it('issue 11 §3a: the loser of a rotation race gets ROTATION_IN_PROGRESS naming the holder, not KEYSTORE_UNAVAILABLE, and nothing changes', () => {
    const before = JSON.parse(ok(['status', '--json'])).keyrings[0];
    const db = keyStoreDb();
    db.prepare('INSERT INTO keystrata_lease VALUES (?, ?, ?)').run('keyring:default', 'ops-box:4242:racer', new Date(Date.now() + 60_000).toISOString());
    try {
      for (const which of ['cmk', 'kek']) {
        const text = keystrata(dir, ['rotate', which]);
        expect(text.status).toBe(1);
        expect(text.stderr).toMatch(/^error: .*another process \(ops-box:4242:racer, lease until \d{4}-.*\) is already doing it/m);
        expect(text.stderr).not.toMatch(/database URL|KEYSTORE_UNAVAILABLE/);
        const json = keystrata(dir, ['rotate', which, '--json']);
        expect(JSON.parse(json.stderr).error.code).toBe('ROTATION_IN_PROGRESS');
      }
      expect(JSON.parse(ok(['status', '--json'])).keyrings[0]).toMatchObject({ cmks: before.cmks, keks: before.keks });
    } finally {
      db.prepare('DELETE FROM keystrata_lease').run();
      db.close();
    }
    expect(ok(['rotate', 'cmk'])).toMatch(/now v2/);
  });
});
