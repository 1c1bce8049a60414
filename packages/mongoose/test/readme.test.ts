import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runReadmeExample } from '@keystrata/testing';
import { MongoClient } from 'mongodb';
import { expect, inject, it } from 'vitest';
import { freshDbName } from './support/mongo.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

it('runs the README example against SoftHSM2 and FerretDB (or MONGODB_URI)', async () => {
  const token = inject('softhsm');
  const db = freshDbName('ks_readme');
  const logged = await runReadmeExample(packageDir, {
    SOFTHSM2_CONF: token.conf,
    KEYSTRATA_PKCS11_MODULE: token.module,
    KEYSTRATA_TOKEN_LABEL: token.tokenLabel,
    KEYSTRATA_HSM_PIN: token.pin,
    MONGODB_URI: inject('mongodbUri'),
    MONGODB_DB: db,
  });
  expect(logged).toEqual(['123-45-6789', 'true', 'QUERY_UNSUPPORTED', 'ada@example.com', '1']);
  const client = await new MongoClient(inject('mongodbUri')).connect();
  try {
    const stored = await client.db(db).collection('patients').find().toArray();
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored).toLowerCase()).not.toMatch(/123-45-6789|ada@example\.com/);
    expect(await client.db(db).collection('keystrata_dek').countDocuments()).toBeGreaterThan(0);
  } finally {
    await client.db(db).dropDatabase();
    await client.close();
  }
});
