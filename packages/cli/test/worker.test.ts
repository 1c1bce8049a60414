import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeDekId } from '@keystrata/core/adapter';
import { createDatabase, startPostgres, type PostgresServer } from '@keystrata/testing';
import { loadConfig } from '../src/config.js';
import { openHierarchy } from '../src/open.js';
import { keystrata } from './run-cli.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const ROWS = 600;
const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-worker-'));
const ok = (args: string[]) => {
  const r = keystrata(dir, args);
  expect(r.status, `keystrata ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const context = (id: string) => ({ model: 'Item', field: 'value', recordId: id, segment: 's1' });

describe('keystrata worker and rotate dek --workers (PostgreSQL key store, pg-boss jobs)', () => {
  let server: PostgresServer;
  let url: string;
  let db: pg.Client;
  const workers = new Set<ChildProcess>();

  /** A `keystrata worker` process (long-running). */
  function startWorker(): { child: ChildProcess; exited: Promise<{ code: number | null; stdout: string; stderr: string }> } {
    const env: NodeJS.ProcessEnv = { ...process.env, ITEMS_DATABASE_URL: url };
    for (const name of ['SOFTHSM2_CONF', 'KEYSTRATA_PKCS11_MODULE', 'KEYSTRATA_TOKEN_LABEL', 'KEYSTRATA_PIN_ENV', 'KEYSTRATA_DATABASE_URL', 'KEYSTRATA_KEYRING']) delete env[name];
    const child = spawn(process.execPath, [BIN, 'worker', '--json'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    workers.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr }))) };
  }

  async function values(): Promise<Array<{ id: string; value: string }>> {
    return (await db.query('SELECT id, value FROM items ORDER BY id')).rows;
  }

  async function expectAllOn(dekId: string) {
    const rows = await values();
    expect(rows.filter((r) => envelopeDekId(r.value) !== dekId).map((r) => r.id)).toEqual([]);
    const hierarchy = await openHierarchy(loadConfig(join(dir, 'keystrata.config.json')));
    try {
      expect(await hierarchy.decryptValues(rows.map((r) => ({ ciphertext: r.value, context: context(r.id) })))).toEqual(rows.map((r) => `value-${r.id}`));
    } finally {
      await hierarchy.close();
    }
  }

  beforeAll(async () => {
    server = await startPostgres();
    url = await createDatabase(server.url, 'keystrata_cli_worker');
    process.env.ITEMS_DATABASE_URL = url;
    ok(['hsm', 'init-dev']);
    const file = join(dir, 'keystrata.config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    // Absolute: the module imports pg, found from the package's node_modules as an application's would be.
    const module = fileURLToPath(new URL('./fixtures/items-hook.mjs', import.meta.url));
    writeFileSync(file, JSON.stringify({ ...config, keyStore: { url }, worker: { module, leaseSeconds: 5, batchSize: 50 } }));
    ok(['init']);
    db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query('CREATE TABLE items (id TEXT PRIMARY KEY, segment TEXT NOT NULL, value TEXT NOT NULL)');
    const hierarchy = await openHierarchy(loadConfig(file));
    try {
      const ids = Array.from({ length: ROWS }, (_, i) => `i${String(i).padStart(4, '0')}`);
      const sealed = await hierarchy.encryptValues(ids.map((id) => ({ value: `value-${id}`, context: context(id) })));
      for (const [i, id] of ids.entries()) await db.query('INSERT INTO items VALUES ($1, $2, $3)', [id, 's1', sealed[i]]);
    } finally {
      await hierarchy.close();
    }
  }, 120_000);

  afterAll(async () => {
    for (const child of workers) if (child.exitCode === null) child.kill('SIGKILL');
    await db?.end();
    await server?.stop();
    delete process.env.ITEMS_DATABASE_URL;
  });

  it('issue 15 §2: `rotate dek --workers 0` enqueues; two `keystrata worker` processes re-encrypt the segment, `status` shows the progress, SIGTERM stops them', async () => {
    const started = [startWorker(), startWorker()];
    const enqueued = JSON.parse(ok(['rotate', 'dek', '--segment', 's1', '--workers', '0', '--old-keys', 'destroy', '--json']));
    expect(enqueued).toMatchObject({ segment: 's1', version: 2, batches: ROWS / 50 + 1 });
    const seen: unknown[] = [];
    for (let i = 0; ; i++) {
      const status = JSON.parse(ok(['status', '--json']));
      seen.push(...status.rotations);
      if (status.rotations.length === 0) break;
      expect(i, 'the workers did not finish the rotation in time').toBeLessThan(120);
      await sleep(500);
    }
    for (const { child } of started) child.kill('SIGTERM');
    const exits = await Promise.all(started.map((s) => s.exited));
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    const summaries = exits.map((e) => JSON.parse(e.stdout));
    expect(summaries.reduce((n, s) => n + s.batches, 0)).toBe(enqueued.batches);
    expect(summaries.reduce((n, s) => n + s.finished, 0)).toBe(1);
    expect(seen.length === 0 || seen.every((r) => (r as { segment: string }).segment === 's1')).toBe(true);
    await expectAllOn(enqueued.dekId);
    const text = ok(['status']);
    expect(text).toMatch(/DEK rotations in the job queue: none/);
    expect(text).toMatch(/1 primary.*1 destroyed|1 destroyed.*1 primary/);
  }, 150_000);

  it('issue 15 §2: `rotate dek --workers 2` runs two workers in the command itself and returns once the rotation is done', async () => {
    const result = JSON.parse(ok(['rotate', 'dek', '--segment', 's1', '--workers', '2', '--json']));
    expect(result).toMatchObject({ segment: 's1', version: 3, here: { batches: ROWS / 50 + 1, finished: 1, rewritten: ROWS } });
    await expectAllOn(result.dekId);
  }, 120_000);

  it('issue 15 §2: `rotate dek` without --workers re-encrypts in the command through worker.module', async () => {
    const result = JSON.parse(ok(['rotate', 'dek', '--segment', 's1', '--json']));
    expect(result).toMatchObject({ segment: 's1', version: 4, reencrypted: ROWS });
    await expectAllOn(result.dekId);
  }, 120_000);

  it('issue 15 §2: a worker without worker.module, or on a SQLite key store, is refused with CONFIG_INVALID naming what to do', () => {
    const file = join(dir, 'keystrata.config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(join(dir, 'no-hook.json'), JSON.stringify({ ...config, worker: {} }));
    const noHook = keystrata(dir, ['rotate', 'dek', '--segment', 's1', '--config', 'no-hook.json']);
    expect(noHook.status).toBe(2);
    expect(noHook.stderr).toMatch(/worker\.module/);
    writeFileSync(join(dir, 'sqlite.json'), JSON.stringify({ ...config, keyStore: { url: 'sqlite:sqlite-keys.db' } }));
    const sqlite = keystrata(dir, ['worker', '--config', 'sqlite.json']);
    expect(sqlite.status).toBe(2);
    expect(sqlite.stderr).toMatch(/--workers N/);
    writeFileSync(join(dir, 'missing-hook.json'), JSON.stringify({ ...config, worker: { module: './no-such-hook.mjs' } }));
    const missing = keystrata(dir, ['rotate', 'dek', '--segment', 's1', '--config', 'missing-hook.json']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/worker\.module .*no-such-hook\.mjs could not be loaded \(ERR_MODULE_NOT_FOUND\)/);
    const badWorkers = keystrata(dir, ['rotate', 'dek', '--segment', 's1', '--workers', 'many']);
    expect(badWorkers.status).toBe(2);
    expect(badWorkers.stderr).toMatch(/--workers must be/);
  });
});
