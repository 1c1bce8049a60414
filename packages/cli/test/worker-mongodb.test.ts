import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { KeyHierarchy } from '@keystrata/core';
import { envelopeDekId } from '@keystrata/core/adapter';
import { MongoKeyStore } from '@keystrata/mongoose';
import { startFerretDb, type FerretDbServer } from '@keystrata/testing/ferretdb';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, openRootKey } from '../src/index.js';
import { keystrata } from './run-cli.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const ROWS = 120;
const context = (id: string) => ({ model: 'Item', field: 'value', recordId: id, segment: 's1' });

describe('keystrata worker on the MongoDB key store of a Mongoose app (FerretDB, findOneAndUpdate leases)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-worker-mongo-'));
  let server: FerretDbServer;
  let client: InstanceType<typeof mongoose.mongo.MongoClient>;
  let url: string;
  const ok = (args: string[]) => {
    const r = keystrata(dir, args);
    expect(r.status, `keystrata ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const db = () => client.db('worker_app');
  const openApp = async () => {
    const rootKey = await openRootKey(loadConfig(join(dir, 'keystrata.config.json')));
    return KeyHierarchy.create({ rootKey, keyStore: new MongoKeyStore(db()) });
  };

  beforeAll(async () => {
    server = process.env.MONGODB_URI ? { uri: process.env.MONGODB_URI, stop: async () => {} } : await startFerretDb();
    url = `${server.uri.replace(/\/?$/, '/')}worker_app`;
    process.env.ITEMS_MONGODB_URL = url;
    client = await new mongoose.mongo.MongoClient(server.uri).connect();
    await db().dropDatabase();
    ok(['hsm', 'init-dev']);
    const file = join(dir, 'keystrata.config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(
      file,
      JSON.stringify({ ...config, keyStore: { url }, worker: { module: fileURLToPath(new URL('./fixtures/items-hook-mongo.mjs', import.meta.url)), batchSize: 25, leaseSeconds: 10 } }),
    );
    const app = await openApp();
    try {
      await app.provision(app.defaultKeyring);
      const ids = Array.from({ length: ROWS }, (_, i) => `i${String(i).padStart(4, '0')}`);
      const sealed = await app.encryptValues(ids.map((id) => ({ value: `value-${id}`, context: context(id) })));
      await db()
        .collection('items')
        .insertMany(ids.map((id, i) => ({ _id: id as never, segment: 's1', value: sealed[i] })));
    } finally {
      await app.close();
    }
  }, 120_000);

  afterAll(async () => {
    delete process.env.ITEMS_MONGODB_URL;
    await client?.close();
    await server?.stop();
  });

  it('issue 15 §2: `rotate dek --workers 0` enqueues in the key store database; a `keystrata worker` re-encrypts the segment; SIGTERM stops it', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['SOFTHSM2_CONF', 'KEYSTRATA_PKCS11_MODULE', 'KEYSTRATA_TOKEN_LABEL', 'KEYSTRATA_PIN_ENV', 'KEYSTRATA_DATABASE_URL', 'KEYSTRATA_KEYRING']) delete env[name];
    const worker = spawn(process.execPath, [BIN, 'worker', '--json'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    worker.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
    try {
      const enqueued = JSON.parse(ok(['rotate', 'dek', '--segment', 's1', '--workers', '0', '--json']));
      expect(enqueued).toMatchObject({ segment: 's1', version: 2, batches: Math.ceil(ROWS / 25) });
      expect(await db().collection('keystrata_rotation_jobs').countDocuments({})).toBe(enqueued.batches + 1);
      for (let i = 0; JSON.parse(ok(['status', '--json'])).rotations.length > 0; i++) {
        expect(i, 'the worker did not finish the rotation in time').toBeLessThan(120);
        await sleep(500);
      }
      worker.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ batches: enqueued.batches, finished: 1, rewritten: ROWS });
      const rows = await db().collection('items').find({}).sort({ _id: 1 }).toArray();
      expect(rows.filter((r) => envelopeDekId(String(r.value)) !== enqueued.dekId)).toEqual([]);
      const app = await openApp();
      try {
        expect(await app.decryptValues(rows.map((r) => ({ ciphertext: r.value, context: context(String(r._id)) })))).toEqual(rows.map((r) => `value-${String(r._id)}`));
      } finally {
        await app.close();
      }
    } finally {
      if (worker.exitCode === null) worker.kill('SIGKILL');
    }
  }, 150_000);
});
