import { setTimeout as sleep } from 'node:timers/promises';
import { inject, afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { createDatabase } from '@keystrata/testing';
import { createPgBossRotationQueue, enqueueDekRotation, type RotationJobQueue } from '@keystrata/core';
import { envelopeDekId } from '@keystrata/core/adapter';
import { installKeystrata, typeormReencryptionHook, type KeystrataTypeorm } from '../dist/index.js';
import { openRootKey } from './support/stack.js';
import { Ledger } from './workers/row-entity.mjs';
import { killAllChildren, startChild, type Child } from './workers/processes.js';

// Issue 15 §2: DEK re-encryption spread over real worker processes (pg-boss on PostgreSQL), with
// workers SIGKILLed at random points while the application (another process) keeps writing.
const ROWS = Number(process.env.KS_ROWS ?? 20_000);
const SEGMENT = 'tenantId:t1';
const LEASE = { leaseSeconds: 2, maintenanceIntervalSeconds: 1 };
const CACHE = { writeRecheckMs: 300 };

describe('issue 15 §2: DEK rotation over worker processes (TypeORM on PostgreSQL, pg-boss)', () => {
  let url: string;
  let dataSource: DataSource;
  let keystrata: KeystrataTypeorm;
  let queue: RotationJobQueue;
  const prefix = `workers-${Math.random().toString(36).slice(2)}`;
  const seeded = new Map<number, string>();

  beforeAll(async () => {
    url = await createDatabase(inject('postgresUrl'), 'keystrata_workers');
    dataSource = new DataSource({ type: 'postgres', url, entities: [Ledger], synchronize: true });
    await dataSource.initialize();
    keystrata = await installKeystrata(dataSource, { rootKey: await openRootKey(), segment: { by: 'tenant', field: 'tenantId' }, hierarchyOptions: { cmkLabelPrefix: prefix, cache: CACHE } });
    const repo = dataSource.getRepository(Ledger);
    for (let from = 0; from < ROWS; from += 1000) {
      const rows = Array.from({ length: 1000 }, (_, i) => ({ id: from + i, tenantId: 't1', value: `seed-${from + i}` }));
      await repo.insert(rows);
      for (const row of rows) seeded.set(row.id, row.value);
    }
    await repo.insert(Array.from({ length: 50 }, (_, i) => ({ id: ROWS + i, tenantId: 't2', value: `other-${i}` })));
    queue = await createPgBossRotationQueue({ connectionString: url, ...LEASE });
  }, 120_000);

  afterAll(async () => {
    killAllChildren();
    await queue?.close();
    await keystrata?.close();
    await dataSource?.destroy();
  });

  const childConfig = (mode: string) => ({ mode, url, prefix, token: inject('softhsm'), cache: CACHE, rows: ROWS, ...LEASE });

  /** Runs one rotation of the segment with `workers` worker processes, SIGKILLing `kills` of them at random points (each replaced). */
  async function rotateUnderFire(workers: number, kills: number) {
    const writer = startChild({ ...childConfig('writer'), pauseMs: 2 });
    await writer.ready;
    const plan = await enqueueDekRotation(keystrata.hierarchy, queue, { segment: SEGMENT, hook: typeormReencryptionHook(dataSource), batchSize: 200, oldKeys: 'destroy' });
    const pool: Child[] = Array.from({ length: workers }, () => startChild(childConfig('worker')));
    const killed: Array<Promise<unknown>> = [];
    const deadline = Date.now() + 120_000;
    let kill = 0;
    let nextKillAt = 0;
    try {
      for (;;) {
        const [job] = (await dataSource.query('SELECT state, data FROM keystrata_job WHERE id = $1', [`dek-rotation:default:${SEGMENT}`])) as Array<{ state: string; data: string }>;
        if (job?.state === 'done' && JSON.parse(job.data).dekId === plan.dekId) break;
        if (Date.now() > deadline) throw new Error(`rotation not done in time: ${JSON.stringify(await queue.progress())}`);
        // A kill lands while workers hold batches (never before the first or after the last), at a random moment.
        const mine = kill < kills ? (await queue.progress()).find((p) => p.rotation === plan.rotation) : undefined;
        if (mine !== undefined && mine.active > 0 && mine.done < mine.total - 1 && nextKillAt === 0) nextKillAt = Date.now() + Math.random() * 400;
        if (kill < kills && nextKillAt !== 0 && Date.now() >= nextKillAt) {
          const victim = Math.floor(Math.random() * pool.length);
          pool[victim]!.process.kill('SIGKILL');
          killed.push(pool[victim]!.exited);
          pool[victim] = startChild(childConfig('worker'));
          kill++;
          nextKillAt = 0;
        }
        await sleep(50);
      }
      for (const worker of pool) worker.process.kill('SIGTERM');
      const exits = await Promise.all(pool.map((w) => w.exited));
      if (process.env.KS_DEBUG_WORKER) for (const e of exits) process.stderr.write(e.stderr);
      const summaries = exits.map((e) => e.answer as { batches: number; finished: number });
      writer.process.kill('SIGTERM');
      const app = (await writer.exited).answer as { writes: number; latest: Record<string, string>; errors: string[] };
      return { plan, summaries, app, killed: (await Promise.all(killed)).length };
    } finally {
      writer.process.kill('SIGKILL');
      for (const worker of pool) worker.process.kill('SIGKILL');
    }
  }

  /** Every row decrypts, holds its latest written value and sits under `dekId`; the other tenant is untouched. */
  async function expectEveryRowOn(dekId: string, latest: Map<number, string>) {
    const raw = (await dataSource.query(`SELECT id, "tenantId", value FROM ledger ORDER BY id`)) as Array<{ id: number; tenantId: string; value: string }>;
    const t1 = raw.filter((r) => r.tenantId === 't1');
    expect(t1).toHaveLength(ROWS);
    const offDek = t1.filter((r) => envelopeDekId(r.value) !== dekId).map((r) => r.id);
    expect(offDek).toEqual([]);
    const rows = await dataSource.getRepository(Ledger).find({ where: { tenantId: 't1' }, order: { id: 'ASC' } });
    const wrong = rows.filter((r) => r.value !== latest.get(r.id)).map((r) => r.id);
    expect(wrong).toEqual([]);
  }

  for (const [workers, kills] of [
    [1, 1],
    [2, 2],
    [4, 3],
  ] as const) {
    it(`issue 15 §2: ${workers} worker process(es), ${kills} SIGKILLed at random points while the application writes; every row decrypts, holds its latest value, and sits under the new DEK`, async () => {
      const before = [...(await keystrata.hierarchy.status()).keyrings[0]!.keks];
      const { plan, summaries, app, killed } = await rotateUnderFire(workers, kills);
      // Each kill waits for a worker to hold a batch; a rotation faster than the kills may leave some unused.
      expect(killed).toBeGreaterThanOrEqual(1);
      expect(killed).toBeLessThanOrEqual(kills);
      expect(app.errors).toEqual([]);
      expect(app.writes).toBeGreaterThan(0);
      for (const [id, value] of Object.entries(app.latest)) seeded.set(Number(id), value);
      await expectEveryRowOn(plan.dekId, seeded);
      expect(summaries.reduce((n, s) => n + s.finished, 0)).toBeLessThanOrEqual(1);
      // The batches did the work: the finish's verification scan found (and re-encrypted) at most a
      // few rows that writers sealed with the old DEK before they re-checked the segment's DEK.
      const audit = await keystrata.hierarchy.listAudit(0, 100_000);
      const finish = audit.filter((r) => r.event === 'reencrypt').at(-1)!;
      expect(JSON.parse(finish.details)).toMatchObject({ dekId: plan.dekId });
      expect(JSON.parse(finish.details).rewritten).toBeLessThan(ROWS / 20);
      // The old DEK is destroyed only after the verification; the other tenant keeps its DEK.
      const live = (await dataSource.query(`SELECT id FROM keystrata_dek WHERE segment = $1 AND state <> 'destroyed'`, [SEGMENT])) as Array<{ id: string }>;
      expect(live.map((d) => d.id)).toEqual([plan.dekId]);
      expect((await keystrata.hierarchy.status()).keyrings[0]!.keks).toEqual(before);
      const other = await dataSource.getRepository(Ledger).find({ where: { tenantId: 't2' }, order: { id: 'ASC' } });
      expect(other.map((r) => r.value)).toEqual(Array.from({ length: 50 }, (_, i) => `other-${i}`));
      expect(await queue.progress()).toEqual([]);
    }, 150_000);
  }
});
