import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { expect, inject, it } from 'vitest';
import { runReadmeExample } from '@keystrata/testing';

it('runs the README example against SoftHSM2 and SQLite (data in its file, keys in keys.db beside it)', async () => {
  const token = inject('softhsm');
  const file = join(mkdtempSync(join(tmpdir(), 'prisma-readme-')), 'app.db');
  const setup = new Database(file);
  setup.exec(readFileSync(new URL('./migrations/sqlite.sql', import.meta.url), 'utf8'));
  setup.close();
  const logged = await runReadmeExample(dirname(dirname(fileURLToPath(import.meta.url))), {
    KEYSTRATA_PKCS11_MODULE: token.module,
    KEYSTRATA_TOKEN_LABEL: token.tokenLabel,
    KEYSTRATA_HSM_PIN: token.pin,
    SOFTHSM2_CONF: token.conf,
    KEYSTRATA_EXAMPLE_DB: file,
  });
  expect(logged).toEqual(['123-45-6789', 'QUERY_UNSUPPORTED', 'true 123-45-6789', '1 ann@example.com']);
  const db = new Database(file);
  expect(JSON.stringify(db.prepare('SELECT * FROM "Patient"').all())).not.toMatch(/123-45-6789|ann@example/);
  expect(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'keystrata%'").all()).toEqual([]); // nothing for Prisma Migrate to see as drift
  db.close();
  const keys = new Database(join(dirname(file), 'keys.db'));
  expect(keys.prepare('SELECT COUNT(*) AS n FROM keystrata_dek').get()).toEqual({ n: 3 }); // acme v1, v2, blind-index root
  keys.close();
});
