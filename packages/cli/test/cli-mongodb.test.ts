import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyHierarchy } from '@keystrata/core';
import { MongoKeyStore } from '@keystrata/mongoose';
import { startFerretDb, type FerretDbServer } from '@keystrata/testing/ferretdb';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, openRootKey } from '../src/index.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

function keystrata(cwd: string, args: string[], input = '') {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['SOFTHSM2_CONF', 'KEYSTRATA_PKCS11_MODULE', 'KEYSTRATA_TOKEN_LABEL', 'KEYSTRATA_PIN_ENV', 'KEYSTRATA_DATABASE_URL', 'KEYSTRATA_KEYRING']) delete env[name];
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, input, encoding: 'utf8', env, timeout: 60_000 });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

describe('keystrata CLI on the MongoDB key store of a Mongoose app (FerretDB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-mongo-'));
  const context = { model: 'Patient', field: 'ssn', recordId: 'p1', segment: 'tenant-a' };
  let server: FerretDbServer;
  let client: InstanceType<typeof mongoose.mongo.MongoClient>;
  let url: string;
  let appValue: string;
  const ok = (args: string[], input = '') => {
    const r = keystrata(dir, args, input);
    expect(r.status, `keystrata ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const db = () => client.db('clinic_app');

  beforeAll(async () => {
    server = process.env.MONGODB_URI ? { uri: process.env.MONGODB_URI, stop: async () => {} } : await startFerretDb();
    url = `${server.uri.replace(/\/?$/, '/')}clinic_app`;
    client = await new mongoose.mongo.MongoClient(server.uri).connect();
    await db().dropDatabase();
    ok(['hsm', 'init-dev']);
    // The application: its own hierarchy over MongoKeyStore in its database, on the same HSM token.
    const rootKey = await openRootKey(loadConfig(join(dir, 'keystrata.config.json')));
    const app = await KeyHierarchy.create({ rootKey, keyStore: new MongoKeyStore(db()) });
    await app.provision(app.defaultKeyring);
    appValue = await app.encryptValue('CANARY-app-value', context);
    await app.close();
    await rootKey.close();
  }, 120_000);

  afterAll(async () => {
    await client
      ?.db('clinic_app')
      .dropDatabase()
      .catch(() => undefined);
    await client?.close();
    await server?.stop();
  });

  it("issue 12 (CLI): keystrata init reuses the app's Mongo key store: no second key store, no second CMK v1", async () => {
    const config = JSON.parse(readFileSync(join(dir, 'keystrata.config.json'), 'utf8'));
    writeFileSync(join(dir, 'keystrata.config.json'), JSON.stringify({ ...config, keyStore: { url } }));
    const init = JSON.parse(ok(['init', '--json']));
    expect(init).toMatchObject({ createdCmk: false, createdKek: false });
    expect(await db().collection('keystrata_cmk').countDocuments()).toBe(1);
    expect(await db().collection('keystrata_kek').countDocuments()).toBe(1);
    const generated = (await db().collection('keystrata_audit').find({ event: 'generate' }).toArray()).map((r) => r.subject);
    expect(generated.filter((s) => String(s).startsWith('cmk:'))).toEqual(['cmk:default:v1']);
    expect(statSync(join(dir, '.keystrata'), { throwIfNoEntry: false })?.isDirectory()).toBe(true);
    expect(statSync(join(dir, '.keystrata', 'keys.db'), { throwIfNoEntry: false })).toBeUndefined(); // no SQLite store beside it
  });

  it('issue 12 (CLI): status, rotate kek, decrypt, audit verify and backup export work on the Mongo key store', async () => {
    const status = JSON.parse(ok(['status', '--json']));
    expect(status.keyrings).toHaveLength(1);
    expect(status.keyrings[0]).toMatchObject({ keyring: 'default', cmks: [{ version: 1, state: 'primary' }], keks: [{ version: 1, state: 'primary' }] });
    expect(status.keyrings[0].deks).toMatchObject({ primary: 1 });
    expect(ok(['rotate', 'kek'])).toMatch(/now v2/);
    expect(await db().collection('keystrata_kek').countDocuments({ state: 'primary' })).toBe(1);
    expect(await db().collection('keystrata_kek').countDocuments()).toBe(2);
    expect(ok(['decrypt', '--context', 'Patient.ssn#p1', '--segment', 'tenant-a'], appValue)).toBe('CANARY-app-value');
    expect(JSON.parse(ok(['audit', 'verify', '--json']))).toMatchObject({ valid: true });
    const rotations = await db().collection('keystrata_audit').find({ event: 'rotate' }).toArray();
    expect(rotations.map((r) => r.actor)).toEqual([expect.stringMatching(/^cli:/)]);
    ok(['backup', 'export', 'mongo.backup.json']);
    const backup = readFileSync(join(dir, 'mongo.backup.json'), 'utf8');
    expect(backup).not.toContain('CANARY');
    expect(JSON.stringify(JSON.parse(backup))).toContain('tenant-a');
  });

  it("issue 12 (CLI): an unreachable MongoDB is KEYSTORE_UNAVAILABLE, without the URL's password", () => {
    const down = spawnSync(process.execPath, [BIN, 'status', '--json'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, SOFTHSM2_CONF: '', KEYSTRATA_DATABASE_URL: 'mongodb://keystrata:CANARY-PW@127.0.0.1:9/x?serverSelectionTimeoutMS=500' },
    });
    expect(down.status).toBe(1);
    expect(JSON.parse(down.stderr).error.code).toBe('KEYSTORE_UNAVAILABLE');
    expect(down.stderr).not.toContain('CANARY-PW');
  });
});
