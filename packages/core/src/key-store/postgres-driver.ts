import type { SqlDriver, SqlExecutor } from './sql-driver.js';
import { importDriver } from './import-driver.js';

/**
 * What the driver calls on a pg Pool or PoolClient (declared here, so users need no `@types/pg`).
 *
 * @example
 * ```ts
 * const queryable: PostgresQueryable = await pool.connect();
 * ```
 */
export interface PostgresQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/**
 * The part of a pg `PoolClient` the driver uses (structural: a real `PoolClient` fits).
 *
 * @example
 * ```ts
 * const client: PostgresPoolClient = await pool.connect();
 * ```
 */
export interface PostgresPoolClient extends PostgresQueryable {
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  release(destroy?: boolean): void;
}

/**
 * The part of a pg `Pool` the driver uses (structural: pass your `new pg.Pool(…)`).
 *
 * @example
 * ```ts
 * const pool: PostgresPool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * ```
 */
export interface PostgresPool extends PostgresQueryable {
  connect(): Promise<PostgresPoolClient>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  end(): Promise<void>;
}

/** Options for {@link createPostgresDriver}. */
export interface PostgresDriverOptions {
  /** A pg Pool (the caller keeps ownership) or a connection string. */
  readonly database: PostgresPool | string;
}

function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function executor(client: PostgresQueryable): SqlExecutor {
  return {
    async all<T>(sql: string, params: readonly unknown[] = []) {
      return (await client.query(numbered(sql), params as unknown[])).rows as T[];
    },
    async run(sql, params = []) {
      return (await client.query(numbered(sql), params as unknown[])).rowCount ?? 0;
    },
  };
}

/**
 * Connection errors arrive as 'error' events on the pool (idle clients) and on checked-out clients;
 * an 'error' event without a listener crashes the process. The next query on a lost connection
 * fails (mapped to KEYSTORE_UNAVAILABLE by the key store) and the pool connects again, so the
 * event itself needs no action.
 */
const ignoreConnectionError = (): void => {};

/**
 * A {@link SqlDriver} over node-postgres. Transactions take a transaction-scoped advisory lock,
 * so audit appends from several processes serialise. An idle process survives the server going
 * away (`pg_ctl stop -m immediate` or `-m fast`): calls fail with KEYSTORE_UNAVAILABLE while it
 * is down and work again as soon as it is back.
 *
 * @example
 * ```ts
 * const driver = await createPostgresDriver({ database: process.env.DATABASE_URL! });
 * ```
 */
export async function createPostgresDriver(options: PostgresDriverOptions): Promise<SqlDriver> {
  let pool: PostgresPool;
  const owned = typeof options.database === 'string';
  if (typeof options.database === 'string') {
    const pg = await importDriver(() => import('pg'), 'pg', 'PostgreSQL');
    pool = new pg.default.Pool({ connectionString: options.database, max: 4 });
  } else {
    pool = options.database;
  }
  pool.on('error', ignoreConnectionError);
  return {
    dialect: 'postgres',
    ...executor(pool),
    async transaction(fn) {
      const client = await pool.connect();
      client.on('error', ignoreConnectionError);
      let failed = false;
      try {
        await client.query('BEGIN');
        await client.query("SELECT pg_advisory_xact_lock(hashtext('keystrata'))");
        const result = await fn(executor(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        failed = true;
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.off('error', ignoreConnectionError);
        // A client whose transaction failed may hold a dead connection: destroy it, never reuse it.
        client.release(failed);
      }
    },
    async close() {
      if (owned) await pool.end();
      else pool.off('error', ignoreConnectionError);
    },
  };
}
