import type { Pool, PoolClient } from 'pg';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';

/** Options for {@link createPostgresDriver}. */
export interface PostgresDriverOptions {
  /** A pg Pool (the caller keeps ownership) or a connection string. */
  readonly database: Pool | string;
}

function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function executor(client: Pool | PoolClient): SqlExecutor {
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
 * A {@link SqlDriver} over node-postgres. Transactions take a transaction-scoped advisory lock,
 * so audit appends from several processes serialise.
 *
 * @example
 * ```ts
 * const driver = await createPostgresDriver({ database: process.env.DATABASE_URL! });
 * ```
 */
export async function createPostgresDriver(options: PostgresDriverOptions): Promise<SqlDriver> {
  let pool: Pool;
  const owned = typeof options.database === 'string';
  if (typeof options.database === 'string') {
    const pg = await import('pg');
    pool = new pg.default.Pool({ connectionString: options.database, max: 4 });
  } else {
    pool = options.database;
  }
  return {
    dialect: 'postgres',
    ...executor(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query("SELECT pg_advisory_xact_lock(hashtext('keystrata'))");
        const result = await fn(executor(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      if (owned) await pool.end();
    },
  };
}
