import { KeystrataError } from '../errors/keystrata-error.js';
import { ROTATION_QUEUE_PREFIX, type RotationJob, type RotationJobQueue, type RotationProgress } from './rotation-queue.js';

/**
 * Options of {@link createPgBossRotationQueue}.
 *
 * @example
 * ```ts
 * const options: PgBossRotationQueueOptions = { connectionString: process.env.DATABASE_URL!, schema: 'keystrata_jobs', leaseSeconds: 120, retryLimit: 20 };
 * const queue = await createPgBossRotationQueue(options);
 * ```
 */
export interface PgBossRotationQueueOptions {
  /** The PostgreSQL database (`postgres://…`), usually the key store's. */
  readonly connectionString: string;
  /** Schema of pg-boss's tables (default `keystrata_jobs`), apart from the key store's and the application's. */
  readonly schema?: string;
  /** How long a worker holds a job before another may take it over (pg-boss `expireInSeconds`, default 60). */
  readonly leaseSeconds?: number;
  /** How often an expired lease is noticed (pg-boss `maintenanceIntervalSeconds`, default 10). */
  readonly maintenanceIntervalSeconds?: number;
  /** Attempts of one job, expired leases included, before it is given up (default 100). */
  readonly retryLimit?: number;
}

/** The part of pg-boss 10 used here. */
interface Boss {
  on(event: 'error', handler: (error: Error) => void): unknown;
  start(): Promise<unknown>;
  stop(options: { graceful: boolean; wait: boolean; timeout: number }): Promise<void>;
  getQueues(): Promise<Array<{ name: string }>>;
  getQueue(name: string): Promise<unknown>;
  createQueue(name: string, options: object): Promise<void>;
  deleteQueue(name: string): Promise<void>;
  insert(jobs: object[]): Promise<void>;
  fetch(name: string, options: { batchSize: number }): Promise<Array<{ id: string; data: unknown; expireInSeconds: number }>>;
  complete(name: string, id: string): Promise<void>;
  fail(name: string, id: string): Promise<void>;
  getQueueSize(name: string, options: { before: 'completed' }): Promise<number>;
  getDb(): { executeSql(text: string, values: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> };
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const QUEUE_LIST_MS = 2000;
const FINISH_RETRY_LIMIT = 1_000_000;

async function loadPgBoss(): Promise<new (options: object) => Boss> {
  try {
    return ((await import('pg-boss')) as unknown as { default: new (options: object) => Boss }).default;
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    // Only pg-boss itself missing (a module pg-boss loads failing is its own error).
    if ((code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') || !String(message).includes("'pg-boss'")) throw error;
    throw new KeystrataError('CONFIG_INVALID', 'Re-encryption workers on PostgreSQL need the package pg-boss, which is not installed.', {
      hint: 'Install it where the workers run: npm install pg-boss@10 (an optional peer dependency of @keystrata/core, needed only for distributed DEK rotation).',
      details: { package: 'pg-boss' },
    });
  }
}

/**
 * A {@link RotationJobQueue} on pg-boss 10 (PostgreSQL, Node 20): one pg-boss queue per rotation,
 * its tables in their own schema (`keystrata_jobs`). A worker's lease is pg-boss's job expiry:
 * a job still active after `leaseSeconds` (its worker died or stalled) is failed by pg-boss's
 * maintenance and retried by another worker.
 *
 * @example
 * ```ts
 * const queue = await createPgBossRotationQueue({ connectionString: process.env.DATABASE_URL! });
 * try {
 *   console.log(await queue.progress());
 * } finally {
 *   await queue.close();
 * }
 * ```
 */
export async function createPgBossRotationQueue(options: PgBossRotationQueueOptions): Promise<RotationJobQueue> {
  const schema = options.schema ?? 'keystrata_jobs';
  if (!SCHEMA_NAME.test(schema)) throw new KeystrataError('CONFIG_INVALID', 'The job schema must be a lower-case SQL identifier (letters, digits, underscores).');
  const leaseSeconds = options.leaseSeconds ?? 60;
  const retryLimit = options.retryLimit ?? 100;
  if (!(Number.isInteger(leaseSeconds) && leaseSeconds >= 1)) throw new KeystrataError('CONFIG_INVALID', 'leaseSeconds must be a whole number of seconds, at least 1.');
  const PgBoss = await loadPgBoss();
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema,
    max: 4,
    maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 10,
    monitorStateIntervalSeconds: 60,
    schedule: false,
  });
  // pg-boss reports background failures (a lost connection) as events; the calls below fail on their own.
  boss.on('error', () => undefined);
  await boss.start();
  const jobOptions = { retryLimit, retryDelay: 1, expireInSeconds: leaseSeconds };
  let queues: { names: string[]; at: number } = { names: [], at: 0 };
  let turn = 0;
  const listQueues = async (): Promise<string[]> => {
    if (Date.now() - queues.at > QUEUE_LIST_MS) queues = { names: (await boss.getQueues()).map((q) => q.name).filter((n) => n.startsWith(ROTATION_QUEUE_PREFIX)), at: Date.now() };
    return queues.names;
  };
  // pg-boss 10's deleteQueue fails on a queue that still holds jobs (its foreign key), completed ones included.
  const dropQueue = async (name: string): Promise<void> => {
    await boss.getDb().executeSql(`DELETE FROM ${schema}.job WHERE name = $1`, [name]);
    await boss.getDb().executeSql(`DELETE FROM ${schema}.archive WHERE name = $1`, [name]);
    await boss.deleteQueue(name);
  };
  return {
    async enqueue(rotation, jobs: readonly RotationJob[]) {
      if ((await boss.getQueue(rotation)) !== null) await dropQueue(rotation);
      await boss.createQueue(rotation, { name: rotation, ...jobOptions });
      // The finish is taken again and again while batches run (each time a retry), so it may retry without end.
      const finishOptions = { ...jobOptions, retryLimit: FINISH_RETRY_LIMIT, retryDelay: 1 };
      await boss.insert(jobs.map((job) => ({ name: rotation, data: job, ...(job.kind === 'batch' ? { priority: 1, ...jobOptions } : { priority: 0, ...finishOptions }) })));
      queues.at = 0;
    },
    async take() {
      const names = await listQueues();
      for (let i = 0; i < names.length; i++) {
        const name = names[(turn + i) % names.length]!;
        const [job] = await boss.fetch(name, { batchSize: 1 });
        if (job === undefined) continue;
        turn = (turn + i + 1) % names.length;
        // The lease is measured from the fetch, with a margin for the fetch's own time.
        const margin = Math.min(5000, job.expireInSeconds * 200);
        return { rotation: name, id: job.id, job: job.data as RotationJob, leaseEndsAt: Date.now() + job.expireInSeconds * 1000 - margin };
      }
      return undefined;
    },
    complete: (taken) => boss.complete(taken.rotation, taken.id),
    // pg-boss retries a failed job after the queue's retryDelay (1 s), whatever delay is asked.
    release: (taken) => boss.fail(taken.rotation, taken.id),
    remaining: (rotation) => boss.getQueueSize(rotation, { before: 'completed' }),
    async progress() {
      const { rows } = await boss.getDb().executeSql(
        `SELECT name, state, count(*)::int AS n, max(coalesce(data->>'keyring', data->'batch'->>'keyring')) AS keyring, max(coalesce(data->>'segment', data->'batch'->>'segment')) AS segment
           FROM ${schema}.job WHERE name LIKE $1 GROUP BY name, state ORDER BY name`,
        [`${ROTATION_QUEUE_PREFIX}%`],
      );
      const byName = new Map<string, { keyring?: string; segment?: string; counts: Record<string, number> }>();
      for (const row of rows) {
        const entry = byName.get(row.name as string) ?? { counts: {} };
        if (typeof row.keyring === 'string') entry.keyring = row.keyring;
        if (typeof row.segment === 'string') entry.segment = row.segment;
        entry.counts[row.state as string] = row.n as number;
        byName.set(row.name as string, entry);
      }
      return [...byName].map(([rotation, { keyring, segment, counts }]): RotationProgress => {
        const count = (state: string): number => counts[state] ?? 0;
        return {
          rotation,
          ...(keyring === undefined ? {} : { keyring }),
          ...(segment === undefined ? {} : { segment }),
          total: Object.values(counts).reduce((a, b) => a + b, 0),
          done: count('completed'),
          active: count('active'),
          failed: count('failed'),
        };
      });
    },
    async remove(rotation) {
      await dropQueue(rotation);
      queues.at = 0;
    },
    async close() {
      await boss.stop({ graceful: false, wait: true, timeout: 5000 });
    },
  };
}
