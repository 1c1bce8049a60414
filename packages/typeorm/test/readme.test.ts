import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDatabase, runReadmeExample } from '@keystrata/testing';
import { expect, inject, it } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

it('runs the README example against SoftHSM2 and PostgreSQL', async () => {
  const token = inject('softhsm');
  const url = await createDatabase(inject('postgresUrl'), 'keystrata_typeorm_readme');
  const logged = await runReadmeExample(packageDir, {
    SOFTHSM2_CONF: token.conf, KEYSTRATA_PKCS11_MODULE: token.module, KEYSTRATA_TOKEN_LABEL: token.tokenLabel, KEYSTRATA_HSM_PIN: token.pin, DATABASE_URL: url,
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
