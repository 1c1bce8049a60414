/**
 * Issue 15 §2: DEK re-encryption of one segment by 1, 2 and 4 worker processes (TypeORM on
 * PostgreSQL, jobs in pg-boss), in rows per second. Its own PostgreSQL server (the other bench
 * files use SQLite). Writes results/reencryption-workers.json; report-workers.ts renders it.
 * KEYSTRATA_BENCH_WORKER_ROWS sets the segment size (default 200,000).
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DataSource } from 'typeorm';
import { inject, it } from 'vitest';
import { createPgBossRotationQueue, enqueueDekRotation, Pkcs11RootKey } from '@keystrata/core';
import { installKeystrata, typeormReencryptionHook } from '@keystrata/typeorm';
import { createDatabase, startPostgres } from '@keystrata/testing';
import { RESULTS_DIR } from './paths.js';
import { Ledger } from './workers/ledger-entity.mjs';
import { WORKERS_RESULT_FILE, type WorkersResult, type WorkersRun } from './report-workers.js';

const ROWS = Number(process.env.KEYSTRATA_BENCH_WORKER_ROWS ?? 200_000);
const WORKER_COUNTS = [1, 2, 4];
const BATCH_SIZE = 500;
const CHILD = fileURLToPath(new URL('./workers/worker-child.mjs', import.meta.url));
const SEGMENT = 'tenantId:big';

/** Spawns one worker process; resolves its summary once it exits. */
function startWorker(config: object): { kill(signal: NodeJS.Signals): void; exited: Promise<unknown> } {
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, KS_BENCH_WORKER: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  return {
    kill: (signal) => child.kill(signal),
    exited: new Promise((resolve) => child.on('exit', () => resolve(stdout.trim() === '' ? undefined : JSON.parse(stdout.trim().split('\n').at(-1)!)))),
  };
}

it('re-encryption rows/s for 1, 2 and 4 worker processes on PostgreSQL', async () => {
  const server = await startPostgres();
  const token = inject('softhsm');
  const runs: WorkersRun[] = [];
  const started = performance.now();
  try {
    const url = await createDatabase(server.url, 'keystrata_bench_workers');
    const dataSource = await new DataSource({ type: 'postgres', url, entities: [Ledger], synchronize: true }).initialize();
    const prefix = `bench-workers-${Date.now().toString(36)}`;
    const rootKey = await Pkcs11RootKey.open({ module: token.module, tokenLabel: token.tokenLabel, pin: () => token.pin, moduleEnvironment: token.moduleEnvironment });
    const keystrata = await installKeystrata(dataSource, { rootKey, segment: { by: 'tenant', field: 'tenantId' }, hierarchyOptions: { cmkLabelPrefix: prefix } });
    const queue = await createPgBossRotationQueue({ connectionString: url, leaseSeconds: 60, maintenanceIntervalSeconds: 5 });
    try {
      const repo = dataSource.getRepository(Ledger);
      for (let from = 0; from < ROWS; from += 2000) await repo.insert(Array.from({ length: Math.min(2000, ROWS - from) }, (_, i) => ({ id: from + i, tenantId: 'big', value: `value-${from + i}` })));
      for (const count of WORKER_COUNTS) {
        const workers = Array.from({ length: count }, () => startWorker({ url, token, prefix }));
        await sleep(3000); // start-up (HSM session, pools) is not re-encryption time
        const t0 = performance.now();
        const plan = await enqueueDekRotation(keystrata.hierarchy, queue, { segment: SEGMENT, hook: typeormReencryptionHook(dataSource), batchSize: BATCH_SIZE, oldKeys: 'destroy' });
        const planned = performance.now();
        let batchesDone = 0;
        for (;;) {
          const mine = (await queue.progress()).find((p) => p.rotation === plan.rotation);
          if (batchesDone === 0 && mine !== undefined && mine.done >= mine.total - 1) batchesDone = performance.now();
          if (mine === undefined) break;
          await sleep(100);
        }
        const done = performance.now();
        for (const w of workers) w.kill('SIGTERM');
        await Promise.all(workers.map((w) => w.exited));
        runs.push({
          workers: count,
          rows: ROWS,
          batches: plan.batches.length,
          planSeconds: (planned - t0) / 1000,
          batchSeconds: ((batchesDone || done) - planned) / 1000,
          finishSeconds: (done - (batchesDone || done)) / 1000,
          totalSeconds: (done - t0) / 1000,
          rowsPerSecond: ROWS / ((done - t0) / 1000),
          batchRowsPerSecond: ROWS / (((batchesDone || done) - planned) / 1000),
        });
        console.log(`[bench] ${count} worker(s): ${runs.at(-1)!.rowsPerSecond.toFixed(0)} rows/s overall, ${runs.at(-1)!.batchRowsPerSecond.toFixed(0)} rows/s in the batch phase`);
      }
    } finally {
      await queue.close();
      await keystrata.close();
      await dataSource.destroy();
    }
  } finally {
    await server.stop();
  }
  const result: WorkersResult = { generatedAt: new Date().toISOString(), rows: ROWS, batchSize: BATCH_SIZE, durationSeconds: (performance.now() - started) / 1000, runs };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, WORKERS_RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);
});
