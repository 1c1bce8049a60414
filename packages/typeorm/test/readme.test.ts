import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDatabase, runReadmeExample } from '@keystrata/testing';
import { expect, inject, it } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

it('runs the README example against SoftHSM2 and PostgreSQL', async () => {
  const token = inject('softhsm');
  const url = await createDatabase(inject('postgresUrl'), 'keystrata_typeorm_readme');
  const logged = await runReadmeExample(packageDir, {
    SOFTHSM2_CONF: token.conf,
    KEYSTRATA_PKCS11_MODULE: token.module,
    KEYSTRATA_TOKEN_LABEL: token.tokenLabel,
    KEYSTRATA_HSM_PIN: token.pin,
    DATABASE_URL: url,
  });
  expect(logged).toEqual(['123-45-6789', 'true', '123-45-6789', '1']);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query('SELECT * FROM patient');
  await client.end();
  expect(rows).toHaveLength(1);
  expect(JSON.stringify(rows)).not.toContain('123-45-6789');
  expect(JSON.stringify(rows)).not.toContain('ada@example.com');
});

it('issue 13 §1: runs the same README quick start against SoftHSM2 and SQLite (no DATABASE_URL)', async () => {
  const token = inject('softhsm');
  const file = join(mkdtempSync(join(tmpdir(), 'typeorm-readme-')), 'app.db');
  const saved = process.env.DATABASE_URL;
  delete process.env.DATABASE_URL;
  try {
    const logged = await runReadmeExample(packageDir, {
      SOFTHSM2_CONF: token.conf,
      KEYSTRATA_PKCS11_MODULE: token.module,
      KEYSTRATA_TOKEN_LABEL: token.tokenLabel,
      KEYSTRATA_HSM_PIN: token.pin,
      SQLITE_FILE: file,
    });
    expect(logged).toEqual(['123-45-6789', 'true', '123-45-6789', '1']);
  } finally {
    if (saved !== undefined) process.env.DATABASE_URL = saved;
  }
  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT * FROM patient').all();
  const deks = db.prepare('SELECT COUNT(*) AS n FROM keystrata_dek').get();
  db.close();
  expect(rows).toHaveLength(1);
  expect(JSON.stringify(rows)).not.toMatch(/123-45-6789|ada@example\.com/);
  expect(deks).toEqual({ n: 3 }); // acme v1, v2, blind-index key
});
