import { KeystrataError } from '../errors/keystrata-error.js';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';
import { importDriver } from './import-driver.js';
import { startPostgresListener, type ListenClient } from './postgres-listener.js';

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

/**
 * Options for {@link createPostgresDriver}.
 *
 * @example
 * ```ts
 * const options: PostgresDriverOptions = { database: process.env.DATABASE_URL!, schema: 'keystrata' }; // schema needs a URL, not a Pool
 * const keyStore = new SqlKeyStore(await createPostgresDriver(options));
 * ```
 */
export interface PostgresDriverOptions {
  /** A pg Pool (the caller keeps ownership) or a connection string. */
  readonly database: PostgresPool | string;
  /**
   * PostgreSQL schema of the key tables (e.g. `keystrata`), created on first use if missing: keeps
   * them out of the schema an ORM's migration tool manages (Prisma Migrate, TypeORM `synchronize`),
   * which could otherwise see them as drift and drop them. Set through the `search_path` of the
   * driver's own connections, so it needs a connection string. Default: the server's search_path
   * (usually `public`). Every process of the application and the CLI must name the same schema.
   */
  readonly schema?: string;
}

/** `application_name` of the notification connection, so operators see it in `pg_stat_activity`. */
const LISTENER_APPLICATION_NAME = 'keystrata-listen';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function checkSchema(options: PostgresDriverOptions): string | undefined {
  const { schema } = options;
  if (schema === undefined) return undefined;
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new KeystrataError('CONFIG_INVALID', 'createPostgresDriver: schema must be a lower-case PostgreSQL identifier (letters, digits, _; at most 63), such as "keystrata".');
  }
  if (typeof options.database !== 'string') {
    throw new KeystrataError(
      'CONFIG_INVALID',
      "createPostgresDriver: schema needs a connection string (the driver sets search_path on its own connections); with your own Pool, pass its connection string instead, or set options: '-c search_path=<schema>' on that Pool and omit schema.",
    );
  }
  return schema;
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
 * // Key tables in their own schema, out of reach of the ORM's migrations:
 * const apart = await createPostgresDriver({ database: process.env.DATABASE_URL!, schema: 'keystrata' });
 * ```
 */
export async function createPostgresDriver(options: PostgresDriverOptions): Promise<SqlDriver> {
  const schema = checkSchema(options);
  let pool: PostgresPool;
  const owned = typeof options.database === 'string';
  // Created inside the first transaction (the key store's migrate()), under its advisory lock.
  let schemaReady = schema === undefined;
  if (typeof options.database === 'string') {
    const pg = await importDriver(() => import('pg'), 'pg', 'PostgreSQL');
    pool = new pg.default.Pool({ connectionString: options.database, max: 4, ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }) });
  } else {
    pool = options.database;
  }
  pool.on('error', ignoreConnectionError);
  // The listener's own connection (issue 15): the pool's settings, or those of the caller's pg Pool.
  const listenConfig = owned
    ? { connectionString: options.database as string, ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }) }
    : (pool as { options?: Record<string, unknown> }).options;
  const listeners = new Set<{ close(): Promise<void> }>();
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
        // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when it exists.
        if (!schemaReady && (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 0) {
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema!}`);
        }
        const result = await fn(executor(client));
        await client.query('COMMIT');
        schemaReady = true;
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
    ...(listenConfig === undefined
      ? {}
      : {
          listen(channel: string, handlers: Parameters<NonNullable<SqlDriver['listen']>>[1]) {
            const createClient = async () => {
              const pg = await importDriver(() => import('pg'), 'pg', 'PostgreSQL');
              const client = new pg.default.Client({ ...listenConfig, keepAlive: true, application_name: LISTENER_APPLICATION_NAME });
              return client as unknown as ListenClient;
            };
            const listener = startPostgresListener(createClient, channel, handlers);
            const handle = {
              async close() {
                listeners.delete(handle);
                await listener.close();
              },
            };
            listeners.add(handle);
            return handle;
          },
        }),
    async close() {
      for (const listener of [...listeners]) await listener.close();
      if (owned) await pool.end();
      else pool.off('error', ignoreConnectionError);
    },
  };
}
